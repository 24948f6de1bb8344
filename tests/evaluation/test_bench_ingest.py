"""The ingest benchmark reports the time per stage and the CPU of the main process and the parse workers."""

from pactkb.evaluation.bench.ingest import run
from pactkb.index.pipeline import STAGES
from pactkb.settings import Settings


def test_ingest_benchmark_reports_stages_and_cpu(tmp_path, make_pdf):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for i in range(3):
        pdf = make_pdf(f"g{i}.pdf", [[f"Guideline {i} on cash couriers at the border crossing. " * 15]])
        (folder / pdf.name).write_bytes(pdf.read_bytes())
    settings = Settings(data=tmp_path / "data", model="fake:64", parse_workers=1, dictionaries="", apertium="")
    r = run(folder, settings)
    assert r["indexed"] == 3 and 0 < r["chunks_embedded"] <= r["chunks"]
    assert set(r["stage_seconds"]) == set(STAGES) and r["stage_seconds"]["parse"] > 0
    assert r["cpu_seconds_parse_workers"] > 0 and r["cpu_seconds_main"] >= 0  # the fake encoder costs next to nothing
    assert 0 <= r["ratio_cpu_ceiling"] <= 1
    assert r["second_run_embedded"] == 0 and r["second_run_unchanged"] == 3
