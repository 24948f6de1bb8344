"""The hard-question cause table: summaries by split and difficulty, and which queries moved."""

from pathlib import Path

import pytest

from pactkb.evaluation.causes import (
    CAUSES,
    GRIDS,
    OFF,
    OPT_IN,
    alone_settings,
    alone_value,
    field_and_entry,
    moved,
    row_settings,
    settings_of,
    summary,
    table,
)
from pactkb.settings import Settings

NOT_FRONT = {"footnote": 0.3, "contents": 0.2, "index": 0.2, "references": 0.3, "acronyms": 0.2}


def test_each_cause_has_a_setting_that_switches_it_off():
    for key in CAUSES:
        assert field_and_entry(key)[0] in Settings.model_fields and key in OFF
    s = Settings(**settings_of(OFF))
    assert s.superseded_weight == 1.0 and not s.synonyms and s.section_support == 0
    assert all(w == 1.0 for w in s.region_weights.values())  # no region demoted, front matter included
    assert s.same_page_weight == 1.0 and s.feedback_weight == 0
    assert Settings().region_weights["front"] < 1.0  # front matter is demoted by default: its row measures that


def test_front_matter_is_a_row_of_its_own_within_the_region_weights():
    """The report's front-matter row and the other regions' row demote what they did when front matter had a
    setting of its own: each alone, the other at 1.0; all on is the defaults."""
    assert CAUSES["region_weights.front"] == "cover, title and imprint pages (front matter)"
    front = settings_of(alone_settings("region_weights.front", {}))
    assert front["region_weights"] == {"front": Settings().region_weights["front"]} == {"front": 0.5}
    others = settings_of(alone_settings("region_weights", {}))
    assert others["region_weights"] == {**NOT_FRONT, "front": 1.0}
    assert settings_of({}) == {} and Settings(**settings_of({})).region_weights == {**NOT_FRONT, "front": 0.5}


def test_tuning_a_region_keeps_the_other_regions_measure():
    """The grids' values of either measure leave the other at its default (or its chosen value)."""
    assert settings_of({"region_weights": {}})["region_weights"] == {"front": 0.5}
    assert settings_of({"region_weights.front": 0.3})["region_weights"] == {**NOT_FRONT, "front": 0.3}
    both = settings_of({"region_weights": GRIDS["region_weights"][1], "region_weights.front": 0.7})
    assert both["region_weights"] == {**GRIDS["region_weights"][1], "front": 0.7}
    assert "front" not in str(GRIDS["region_weights"])  # the footnotes' grid never moves front matter


def test_an_opt_in_measure_is_measured_at_its_opt_in_value():
    """Dense feedback is off by default; its row still switches it on, so the table shows what it would move."""
    assert alone_value("feedback_weight", {}) == OPT_IN["feedback_weight"] > 0
    assert alone_value("feedback_weight", {"feedback_weight": 0.5}) == 0.5  # a tuned value wins
    assert alone_value("same_page_weight", {}) == Settings().same_page_weight  # on by default: its default
    assert alone_value("section_support_levels", {}) == Settings().section_support_levels == 1


def test_a_refining_measure_switches_the_measure_it_refines_on_in_its_row():
    """Counting sibling subsections as one unit does nothing without section support: its row turns that on too."""
    row = alone_settings("section_support_levels", {})
    assert row["section_support_levels"] == Settings().section_support_levels == 1
    assert row["section_support"] == Settings().section_support > 0
    assert alone_settings("section_support_levels", {"section_support": 0.2})["section_support"] == 0.2
    assert alone_settings("synonyms", {})["weight_expansion"] == Settings().weight_expansion
    assert alone_settings("region_weights", {})["section_support"] == 0  # the others stay off


def test_summary_and_moved_queries():
    queries = {
        "a": {"split": "test", "difficulty": "hard", "lang": "en"},
        "b": {"split": "dev", "difficulty": "easy", "lang": "sr"},
        "c": {"split": "test", "difficulty": "easy", "lang": "en"},
    }
    before = {"a": 0.2, "b": 0.5, "c": 0.9}
    after = {"a": 0.6, "b": 0.48, "c": 0.7}
    s = summary(after, queries)
    assert s["test_hard"] == 0.6 and s["dev"] == 0.48 and s["test_en"] == 0.65
    assert moved(before, after) == {"up": ["a"], "down": ["c"]}
    res = {
        "off": summary(before, queries),
        "on": summary(after, queries),
        "moved_by_all": moved(before, after),
        "causes": [{"cause": "the wrong edition", "setting": "superseded_weight", **s, **moved(before, after)}],
    }
    text = table(res)
    assert "| the wrong edition | `superseded_weight` |" in text and "**all measures on**" in text
    assert "| test hard |" in text and "| 0.65 | 0.6 | 0.65 |" in text  # test, test hard, test English
    assert s["dev"] == 0.48 and s["dev_hard"] == 0.0 and s["dev_en"] == 0.0
    dev_text = table({**res, "split": "dev"})  # a dev-only run (--split dev) shows the dev half's columns
    assert "| dev hard |" in dev_text and "test" not in dev_text.split("\n")[0]
    assert "| 0.48 | 0.0 | 0.0 |" in dev_text


def test_the_deprecated_front_matter_variable_does_not_override_a_rows_weights(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every row measures its own region weights even when PACTKB_FRONT_MATTER_WEIGHT is left in the environment."""
    monkeypatch.setenv("PACTKB_FRONT_MATTER_WEIGHT", "0.2")
    assert set(row_settings(tmp_path, OFF).region_weights.values()) == {1.0}  # all measures off: nothing demoted
    front = row_settings(tmp_path, alone_settings("region_weights.front", {}))
    assert front.region_weights == {"front": 0.5}
    assert row_settings(tmp_path, {}).region_weights["front"] == 0.5  # all on: the defaults
