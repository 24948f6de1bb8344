"""Field synonyms and acronyms: curated list, team files, expansion shown and searched."""

from __future__ import annotations

from pathlib import Path

import pytest

from pactkb.index.kb import KnowledgeBase
from pactkb.index.synonyms import BUILTIN, SynonymFileError, Synonyms, load_synonyms, merge, read_groups, singular
from pactkb.settings import Settings


def test_the_builtin_list_is_versioned_and_covers_the_field_vocabulary():
    groups, version = read_groups(BUILTIN)
    assert version and len(groups) >= 60
    syn = load_synonyms()
    assert "virtual asset kiosk" in syn.expand("bitcoin vending machines near schools").added
    assert "structuring" in syn.expand("What is smurfing?").added
    # cuckoo smurfing is another typology (a launderer's deposits into an innocent recipient's account), no synonym
    assert "cuckoo smurfing" not in syn.expand("What is smurfing?").added
    assert "informal value transfer system" in syn.expand("hawala networks in the Balkans").added
    assert "crypto atm" in syn.expand("Crypto ATM fraud").matched


def test_longest_match_wins_and_terms_already_in_the_query_are_not_added():
    syn = Synonyms([("crypto atm", "virtual asset kiosk"), ("crypto", "virtual asset")])
    exp = syn.expand("crypto ATM and virtual asset kiosk")
    assert exp.matched == ("crypto atm", "virtual asset kiosk")
    assert exp.added == ()
    assert syn.expand("crypto exchanges").added == ("virtual asset",)
    assert Synonyms([("a b", "c d")]).expand("a b").text == '"c d"'


def test_team_files_merge_with_the_builtin_groups(tmp_path: Path):
    team = tmp_path / "team.tsv"
    team.write_text(
        "# our words\nsmurf runs | structuring\nkrijumčarenje ljudi | migrant smuggling\n", encoding="utf-8"
    )
    syn = load_synonyms((str(team),))
    assert "structuring" in syn.expand("smurf runs at exchange offices").added  # the team term joined the group
    assert "migrant smuggling" in syn.expand("krijumcarenje ljudi").added  # folded: diacritics do not matter
    assert merge([("a", "b"), ("c", "d"), ("b", "c")]) == [("b", "c", "a", "d")]


def test_a_broken_team_file_names_the_file_and_line_and_is_left_out(tmp_path: Path, caplog):
    bad = tmp_path / "bad.tsv"
    bad.write_text("one | two\nlonely\n", encoding="utf-8")
    with pytest.raises(SynonymFileError, match=r"bad\.tsv:2"):
        read_groups(bad)
    syn = load_synonyms((str(bad),))
    assert "structuring" in syn.expand("smurfing").added
    assert "bad.tsv:2" in caplog.text


def test_a_synonym_finds_the_passage_that_uses_the_other_term_and_is_shown(tmp_path: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "kiosks.txt").write_text(
        "Virtual asset kiosks let customers buy bitcoin for cash with little identification. "
        "Supervisors should register kiosk operators.",
        encoding="utf-8",
    )
    (docs / "other.txt").write_text(
        "Correspondent banking relationships need due diligence on the respondent bank.", encoding="utf-8"
    )
    kb = KnowledgeBase(Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, dictionaries=""))
    kb.indexer.ingest([docs])
    res = kb.searcher.search("crypto ATM", mode="lexical")
    assert res.results and res.results[0].file == "kiosks.txt"
    assert "virtual asset kiosk" in res.expansion
    off = KnowledgeBase(
        Settings(data=tmp_path / "data", model="fake:64", parse_workers=0, dictionaries="", synonyms=False)
    )
    res_off = off.searcher.search("crypto ATM", mode="lexical")
    assert res_off.expansion == [] and not any(h.file == "kiosks.txt" for h in res_off.results)


def test_inflections_and_short_acronyms_are_not_added():
    exp = load_synonyms().expand("bitcoin vending machines")
    assert "bitcoin vending machine" not in exp.added and "virtual asset kiosks" not in exp.added
    assert "virtual asset kiosk" in exp.added
    assert "ml" not in load_synonyms().expand("money laundering").added
    assert "money laundering" in load_synonyms().expand("ML typologies").added


def test_a_listed_term_finds_its_plural_and_singular():
    syn = Synonyms([("crypto exchange", "virtual asset service provider"), ("charity", "non-profit organisation")])
    assert syn.expand("crypto exchanges in Serbia").added == ("virtual asset service provider",)
    assert syn.expand("registered charities").matched == ("charities",)
    assert Synonyms([("crypto exchanges", "vasp")]).expand("a crypto exchange").added == ("vasp",)
    assert singular("analysis") == "analysis" and singular("virus") == "virus" and singular("gas") == "gas"
    assert singular("companies") == "company" and singular("mules") == "mule" and singular("ieds") == "ied"


def test_practitioner_words_find_the_documents_wording():
    """en.tsv 2026.12.11: practitioners' words the documents do not use (evaluation/vocabulary/en-synonyms.tsv)."""
    syn = load_synonyms()
    assert "terrorist financing" in syn.expand("terror financing").added
    assert "proceeds of crime" in syn.expand("dirty money").added
    assert "jurisdictions under increased monitoring" in syn.expand("FATF grey list").added
    assert "offence" in syn.expand("money laundering offense").added
    # "organized" needs no expansion: the keyword index reads it as "organised" (index/fold.py PORTER_EXCEPTIONS)
    assert syn.expand("organized crime in the region").added == ()
