"""The language-weight sweep (evaluation/tune_languages.py): dev half only unless asked, with a coverage stage."""

import json

from pactkb.evaluation.tune_languages import sweep
from pactkb.index.embed import FakeEncoder
from pactkb.index.fusion import FULL_TRANSLATION_NATIVE
from pactkb.index.kb import KnowledgeBase
from tests.evaluation.test_domain import domain_set  # noqa: F401 - the fixture


def test_the_sweep_tunes_on_dev_and_scores_only_the_chosen_settings_on_test(settings, sample_dir, domain_set):  # noqa: F811
    rows = [json.loads(line) for line in (domain_set / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[1]["split"] = "dev"  # the Serbian query: on the half the sweep tunes on
    rows.append({**rows[1], "_id": "q4", "split": "test"})
    (domain_set / "queries.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    (domain_set / "qrels.tsv").write_text(
        (domain_set / "qrels.tsv").read_text("utf-8") + "q4\tfinansijske-istrage-prirucnik-sr.pdf\t1\t1\t2\n", "utf-8"
    )
    kb = KnowledgeBase(
        settings.model_copy(update={"field_glossaries": True}), encoder=FakeEncoder(64, 64, name="fake-multilingual")
    )
    kb.indexer.ingest([sample_dir])
    grid = {"dense": (1.0,), "lexical": (0.5,), "bridge_weights": (1.0,), "bridge_cosines": (0.9,)}
    dev_only = sweep(kb, domain_set, test=False, **grid)
    assert dev_only["dev_queries"] == 1 and all("test" not in r for r in dev_only["grid"])
    assert "test" not in dev_only["current"] and 0.0 <= dev_only["current"]["dev"] <= 1.0
    natives = {r.get("full_translation_native") for r in dev_only["grid"] if r.get("stage") == 3}
    assert natives | {dev_only["best"]["full_translation_native"]} >= {0.5, 1.0, None}  # the coverage stage
    assert FULL_TRANSLATION_NATIVE in {r.get("full_translation_native") for r in dev_only["grid"]}
    assert kb.settings.translation_coverage and kb.settings.weight_full_translation is None  # restored
    assert kb.settings.fusion_by_language is None and kb.settings.weight_bridge is None
    scored = sweep(kb, domain_set, test=True, **grid)
    assert "test" in scored["best"] and "test" in scored["current"]
    assert sum("test" in r for r in scored["grid"]) <= 2  # the best, and the best without the bridge
