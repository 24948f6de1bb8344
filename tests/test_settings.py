"""The configuration: region weights in one setting, and the deprecated front-matter weight that still sets them."""

from __future__ import annotations

import warnings

import pytest

from pactkb.settings import FRONT_MATTER_DEPRECATED, Settings


def test_front_matter_is_an_ordinary_region_weight_demoted_by_default() -> None:
    weights = Settings().region_weights
    assert weights == {"footnote": 0.3, "contents": 0.2, "index": 0.2, "references": 0.3, "front": 0.5, "acronyms": 0.2}
    assert Settings().front_matter_weight is None


def test_the_old_front_matter_variable_sets_the_front_entry_with_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACTKB_FRONT_MATTER_WEIGHT", "0.7")
    with pytest.warns(FutureWarning, match="PACTKB_FRONT_MATTER_WEIGHT .* deprecated.*PACTKB_REGION_WEIGHTS"):
        s = Settings()
    assert s.region_weights == {
        "footnote": 0.3,
        "contents": 0.2,
        "index": 0.2,
        "references": 0.3,
        "front": 0.7,
        "acronyms": 0.2,
    }
    assert s.front_matter_weight is None  # the weight lives in one place
    monkeypatch.setenv("PACTKB_REGION_WEIGHTS", '{"footnote": 0.5, "front": 0.9}')
    with pytest.warns(FutureWarning):
        s = Settings()
    assert s.region_weights == {"footnote": 0.5, "front": 0.7}  # it sets the entry, as it overrode it before


def test_region_weights_without_the_old_variable_warn_of_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACTKB_REGION_WEIGHTS", '{"footnote": 0.5, "front": 0.9}')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = Settings()
    assert s.region_weights == {"footnote": 0.5, "front": 0.9}
    with pytest.warns(FutureWarning, match="next release"):
        assert Settings(front_matter_weight=1.0).region_weights["front"] == 1.0  # a keyword, as the CLI would pass it
    assert "front_matter_weight" in FRONT_MATTER_DEPRECATED


def test_the_old_front_matter_weight_keeps_its_bounds() -> None:
    with pytest.raises(ValueError, match="front_matter_weight"):
        Settings(front_matter_weight=1.5)


def test_region_weights_name_only_known_regions_and_stay_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    from pactkb.ingest.regions import FRONT, REGIONS

    assert set(Settings().region_weights) <= set(REGIONS) and FRONT in REGIONS
    monkeypatch.setenv("PACTKB_REGION_WEIGHTS", '{"frontmatter": 0.5}')  # a typo is refused, not silently ignored
    with pytest.raises(ValueError, match=r"region_weights\.frontmatter(.|\n)*'front'"):
        Settings()
    with pytest.raises(ValueError, match=r"region_weights\.footnote(.|\n)*less than or equal to 1"):
        Settings(region_weights={"footnote": 1.5})
    with pytest.raises(ValueError, match=r"region_weights\.contents(.|\n)*greater than or equal to 0"):
        Settings(region_weights={"contents": -0.1})


def test_short_passages_are_demoted_by_default_and_the_weights_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings()
    assert s.short_passage_weight == 0.6 and s.short_passage_tokens == 48
    monkeypatch.setenv("PACTKB_SHORT_PASSAGE_WEIGHT", "0.5")
    monkeypatch.setenv("PACTKB_SHORT_PASSAGE_TOKENS", "24")
    s = Settings()
    assert (s.short_passage_weight, s.short_passage_tokens) == (0.5, 24)
    with pytest.raises(ValueError, match="short_passage_weight"):
        Settings(short_passage_weight=1.5)
    with pytest.raises(ValueError, match="short_passage_tokens"):
        Settings(short_passage_tokens=-1)


def test_the_shared_depth_of_totals_is_bounded() -> None:
    """Every search retrieves total_depth candidates per retriever: a runaway value is refused, naming it."""
    assert Settings().total_depth == 100
    with pytest.raises(ValueError, match="total_depth"):
        Settings(total_depth=100_000)
    with pytest.raises(ValueError, match="total_depth"):
        Settings(total_depth=5)
