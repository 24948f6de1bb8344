"""The default encoder is multilingual: multilingual-e5-small run by OpenVINO, in bfloat16 where the CPU computes it
natively; its vectors are those of the model at full precision. In torch, queries go through the same weights' ONNX
graph."""

import numpy as np
import pytest

from pactkb.index.embed import E5_NAME, SentenceTransformerEncoder
from pactkb.index.encoder_factory import encoder_identity, load_encoder, onnx_queries
from pactkb.index.kb import KnowledgeBase
from pactkb.index.openvino_encoder import OpenVinoEncoder
from pactkb.index.store import ModelMismatchError, Store
from pactkb.settings import ENGLISH_MODEL, Settings
from tests.index.test_e5_rebuild import SENTENCES


def test_a_fresh_install_selects_the_multilingual_model():
    s = Settings()
    assert s.model == E5_NAME == "multilingual-e5-small" and s.encoder == "openvino"
    assert encoder_identity(s) == E5_NAME  # bf16 or fp32: one vector space, one name
    torch = s.model_copy(update={"encoder": "torch"})
    assert encoder_identity(torch) == E5_NAME and not onnx_queries(s)  # openvino encodes its own queries
    assert onnx_queries(torch) and not onnx_queries(torch.model_copy(update={"model": ENGLISH_MODEL}))
    assert not onnx_queries(torch.model_copy(update={"query_encoder": "passage"}))


def test_auto_precision_follows_the_cpu(monkeypatch):
    import pactkb.settings as settings_module

    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(settings_module, "cpu_has_bf16", lambda native=native: native)
        assert Settings().resolved_precision() == expected
        assert Settings(encoder="torch").resolved_precision() == expected
        assert Settings(encoder="onnx").resolved_precision() == "int8"
        assert Settings(precision="fp32").resolved_precision() == "fp32"


@pytest.mark.model
def test_default_vectors_equal_full_precision_ones_in_every_user_language(tmp_path):
    default = load_encoder(Settings(data=tmp_path, precision="bf16"))
    in_torch = load_encoder(Settings(data=tmp_path, encoder="torch", precision="bf16"))
    full = SentenceTransformerEncoder(E5_NAME, precision="fp32")
    assert isinstance(default, OpenVinoEncoder) and default.precision == "bf16" and default.name == E5_NAME
    assert default.max_tokens == full.max_tokens and default.dim == 384
    assert in_torch.query_side is not None and in_torch.query_side.precision == "fp32"
    for lang, texts in SENTENCES.items():
        expected_p, expected_q = full.encode(texts), full.encode_queries(texts)
        for enc in (default, in_torch):
            passages = np.sum(enc.encode(texts) * expected_p, axis=1)
            queries = np.sum(enc.encode_queries(texts) * expected_q, axis=1)
            assert passages.min() >= 0.999 and queries.min() >= 0.999, (type(enc).__name__, lang, passages, queries)
            assert np.allclose(np.linalg.norm(enc.encode(texts), axis=1), 1.0, atol=1e-5)


def test_openvino_refuses_int8_by_name(tmp_path):
    from pactkb.index.embed import ModelLoadError

    with pytest.raises(ModelLoadError, match="int8"):
        load_encoder(Settings(data=tmp_path, precision="int8"))


def test_bf16_and_fp32_vectors_share_a_store_int8_ones_do_not(tmp_path):
    store = Store(tmp_path)
    store.bind_model(E5_NAME, 384, precision="bf16", weights="w1")
    store.bind_model(E5_NAME, 384, precision="fp32", weights="w1")  # no error: the same vectors to 1e-4
    with pytest.raises(ModelMismatchError, match="int8"):
        store.bind_model(f"{E5_NAME}@onnx-int8", 384, precision="int8", weights="w1")


@pytest.mark.model
def test_a_serbian_question_finds_the_english_passage_with_default_settings(tmp_path, make_pdf):
    make_pdf(
        "cash.pdf",
        [
            [
                "Cash couriers at border crossings: customs officers should question travellers who "
                "carry large amounts of cash and check their declarations against the currency they carry."
            ]
        ],
    )
    pdf = make_pdf(
        "cyber.pdf",
        [
            [
                "Cyber-attacks on critical infrastructure: operators should report incidents to the "
                "national CSIRT within twenty-four hours and keep logs for the investigation."
            ]
        ],
    )
    kb = KnowledgeBase(Settings(data=tmp_path / "data", parse_workers=0, dictionaries="", apertium=""))
    kb.indexer.ingest([pdf.parent])
    for query, expected in (
        ("Kako carinici provjeravaju kurire s gotovinom na granici?", "cash.pdf"),
        ("Како треба пријавити сајбер напад на критичну инфраструктуру?", "cyber.pdf"),
        ("Si duhet të raportohet një sulm kibernetik?", "cyber.pdf"),
    ):
        hits = kb.searcher.search(query, k=2, mode="dense").results
        assert hits[0].file.endswith(expected), (query, [(h.file, h.score) for h in hits])
