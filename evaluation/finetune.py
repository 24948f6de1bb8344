"""Domain-tuning experiment: fine-tune a sentence-transformers model on a BEIR collection's judged split.

It measures how much a domain-tuned encoder adds over the bundled one. Train on a dev/train split and evaluate
the saved model on test like any other model:

    python -m pactkb.evaluation.finetune ../shared/benchmarks/obliqa --split dev \
        --out ~/.cache/pactkb/models/minilm-obliqa-dev
    pactkb eval ../shared/benchmarks/obliqa --model ~/.cache/pactkb/models/minilm-obliqa-dev --json

Training: one (question, judged passage, hard negative) triple per judgment. The hard negative is a passage
BM25 ranks high for the question that is not judged relevant. The loss is in-batch softmax over all passages of
the batch (MultipleNegativesRankingLoss), written as a plain torch loop because sentence-transformers' trainer
needs the `datasets` package.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pactkb.evaluation.beir import Collection, judged_index
from pactkb.index.embed import resolve_model_path
from pactkb.index.filters import Filters
from pactkb.index.lexical import lexical_index
from pactkb.settings import Settings


@dataclass(frozen=True)
class Triple:
    """One training example."""

    query: str
    positive: str
    negative: str


def passage_texts(coll: Collection) -> dict[str, str]:
    """Document id → the text the index embeds (title, then text)."""
    return {r.id: f"{r.title}\n{r.text}".strip() for r in coll.corpus()}


def training_triples(coll: Collection, settings: Settings, seed: int = 0, depth: int = 10) -> list[Triple]:
    """(question, judged passage, BM25 hard negative) for every judgment of the collection's split."""
    rng = random.Random(seed)
    qrels, queries, kb, doc_of = judged_index(coll, settings)
    fts = lexical_index(kb.store, kb.settings.lexical)
    texts = passage_texts(coll)
    ids = sorted(texts)
    triples = []
    for qid, judged in sorted(qrels.items()):
        if qid not in queries:
            continue
        seen: list[str] = []
        for cid, _ in fts.search(queries[qid], 3 * depth, Filters()):
            did = doc_of[cid]
            if did not in judged and did not in seen:
                seen.append(did)
        negatives = seen[:depth] or [rng.choice(ids)]
        triples += [
            Triple(queries[qid], texts[did], texts[rng.choice(negatives)]) for did in sorted(judged) if did in texts
        ]
    return triples


def finetune(
    model: str,
    triples: list[Triple],
    out: Path,
    epochs: int = 1,
    batch: int = 32,
    lr: float = 3e-5,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, Any]:
    """Train with in-batch negatives plus one hard negative per example; save the model to `out`."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(seed)
    rng = random.Random(seed)
    st = SentenceTransformer(resolve_model_path(model), device="cpu")
    opt = torch.optim.AdamW(st.parameters(), lr=lr)
    steps = epochs * (len(triples) // batch)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else max(0.0, (steps - s) / max(1, steps - warm))
    )

    def embed(texts: list[str]) -> torch.Tensor:
        feats = st.preprocess(texts)
        return torch.nn.functional.normalize(st(feats)["sentence_embedding"], dim=-1)

    st.train()
    t0, step, order = time.perf_counter(), 0, list(triples)
    for _ in range(epochs):
        rng.shuffle(order)
        for i in range(0, len(order) - batch + 1, batch):
            b = order[i : i + batch]
            q = embed([t.query for t in b])
            d = embed([t.positive for t in b] + [t.negative for t in b])
            loss = torch.nn.functional.cross_entropy(20.0 * q @ d.T, torch.arange(len(b)))
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            if progress and step % 10 == 0:
                print(f"step {step}/{steps} loss {loss.item():.4f} {time.perf_counter() - t0:.0f}s", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    st.save(str(out))
    return {
        "model": model,
        "out": str(out),
        "examples": len(triples),
        "steps": step,
        "epochs": epochs,
        "batch": batch,
        "lr": lr,
        "seconds": round(time.perf_counter() - t0, 1),
    }


def main() -> None:
    """Build the triples, train, save, print a JSON summary."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("collection", type=Path)
    ap.add_argument("--split", default="dev", help="The judged split to train on (never test).")
    ap.add_argument("--out", type=Path, required=True, help="Where the tuned model is saved.")
    ap.add_argument("--model", default=Settings().model, help="The model to start from.")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-5)
    ap.add_argument("--cache-dir", type=Path, default=None)
    args = ap.parse_args()
    if args.split == "test":
        raise SystemExit("finetune: train on a dev or train split, never on test")
    settings = Settings(model=args.model, **({"cache_dir": args.cache_dir} if args.cache_dir else {}))
    coll = Collection(args.collection, args.split)
    coll.validate()
    triples = training_triples(coll, settings)
    summary = finetune(args.model, triples, args.out.expanduser(), args.epochs, args.batch, args.lr)
    print(json.dumps({"collection": coll.name, "split": args.split, **summary}))


if __name__ == "__main__":
    main()
