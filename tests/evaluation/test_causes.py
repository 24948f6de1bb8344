"""The hard-question cause table: summaries by split and difficulty, and which queries moved."""

from pactkb.evaluation.causes import CAUSES, OFF, OPT_IN, alone_settings, alone_value, moved, summary, table
from pactkb.settings import Settings


def test_each_cause_has_a_setting_that_switches_it_off():
    for key in CAUSES:
        assert key in Settings.model_fields and key in OFF
    s = Settings(**OFF)
    assert s.superseded_weight == 1.0 and s.region_weights == {} and not s.synonyms and s.section_support == 0
    assert s.same_page_weight == 1.0 and s.feedback_weight == 0 and s.front_matter_weight == 1.0
    assert Settings().front_matter_weight < 1.0  # front matter is demoted by default: its row measures that


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
