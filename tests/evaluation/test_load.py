"""The load benchmark reports the median run with the range and every run's errors."""

from pactkb.evaluation.bench.load import median_run


def run(rps: float, errors: int = 0, p50: float = 10.0) -> dict:
    return {
        "clients": 8,
        "requests": int(rps * 20),
        "errors": errors,
        "throughput_rps": rps,
        "p50_ms": p50,
        "first_error": "HTTP 500" if errors else None,
    }


def test_median_run_keeps_the_range_and_counts_all_errors() -> None:
    out = median_run([run(71.4, p50=98), run(48.7, errors=2, p50=147), run(57.3, p50=130)])
    assert (out["throughput_rps"], out["p50_ms"]) == (57.3, 130)
    assert (out["throughput_min"], out["throughput_max"], out["runs"]) == (48.7, 71.4, 3)
    assert out["errors"] == 2 and out["first_error"] == "HTTP 500"


def test_cold_runs_set_every_query_cache_to_one_entry(monkeypatch) -> None:
    from pactkb.evaluation.bench.load import COLD_CACHES
    from pactkb.settings import Settings

    for name, value in COLD_CACHES.items():
        monkeypatch.setenv(name, value)
    s = Settings()
    assert (s.query_cache, s.translation_cache, s.language_cache) == (1, 1, 1)
