"""Shared fixtures for the evaluation tests."""

import json

import pytest


@pytest.fixture
def tiny_beir(tmp_path):
    root = tmp_path / "tiny"
    (root / "qrels").mkdir(parents=True)
    docs = [
        ("d1", "Cash couriers", "Customs officers detect undeclared cash carried by couriers at borders."),
        ("d2", "Virtual assets", "Stablecoin transfers to unhosted wallets are traced with blockchain analytics."),
        ("d3", "Non-profit organisations", "Risk-based outreach to charities avoids disrupting humanitarian aid."),
        ("d4", "Football", "The national football league announced its annual schedule."),
    ]
    with open(root / "corpus.jsonl", "w") as fh:
        for i, t, x in docs:
            fh.write(json.dumps({"_id": i, "title": t, "text": x}) + "\n")
    with open(root / "queries.jsonl", "w") as fh:
        for i, t in [
            ("q1", "undeclared cash at the border"),
            ("q2", "tracing stablecoin wallets"),
            ("q3", "charities outreach"),
        ]:
            fh.write(json.dumps({"_id": i, "text": t}) + "\n")
    for split in ("test", "dev"):
        (root / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq3\td3\t1\n")
    return root
