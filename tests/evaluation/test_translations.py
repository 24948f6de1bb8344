"""Query translation query by query (evaluation/translations.py): one half's native queries beside their originals."""

import json

from pactkb.evaluation.translations import analyse
from pactkb.index.kb import KnowledgeBase
from tests.evaluation.test_domain import domain_set  # noqa: F401 - the fixture


def test_only_the_half_asked_for_is_shown_with_its_renderings(settings, sample_dir, domain_set):  # noqa: F811
    rows = [json.loads(line) for line in (domain_set / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[1]["en"] = "Administration for the Prevention of Money Laundering"
    (domain_set / "queries.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    kb = KnowledgeBase(settings.model_copy(update={"field_glossaries": True}))
    kb.indexer.ingest([sample_dir])
    assert analyse(kb, domain_set, "dev")["queries"] == []  # the dev half has no query in the users' languages
    result = analyse(kb, domain_set, "test")
    [row] = result["queries"]
    assert row["id"] == "q2" and row["lang"] == "sr" and row["english"] == rows[1]["en"]
    assert row["apertium"] is None and row["untranslated"] is None  # Apertium switched off in the test settings
    assert row["query_translation"].startswith("financial intelligence unit")  # the field glossary's term
    assert 0.0 <= row["ndcg_native"] <= 1.0 and 0.0 <= row["ndcg_english"] <= 1.0
    assert result["by_language"]["sr"]["queries"] == result["by_language"]["all"]["queries"] == 1
