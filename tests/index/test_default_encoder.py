"""The default encoder is multilingual: multilingual-e5-small run by OpenVINO, in bfloat16 where the CPU computes it
natively; its vectors are those of the model at full precision. In torch, queries go through the same weights' ONNX
graph."""

import numpy as np
import onnx
import pytest

from pactkb.index.embed import E5_NAME, SentenceTransformerEncoder
from pactkb.index.encoder import ModelLoadError
from pactkb.index.encoder_factory import (
    LazyEncoder,
    encoder_facts,
    encoder_identity,
    load_encoder,
    query_kind,
    query_side,
)
from pactkb.index.kb import KnowledgeBase
from pactkb.index.onnx_encoder import export_dir
from pactkb.index.openvino_encoder import QUERY_PAD_TOKENS, OpenVinoEncoder, OpenVinoInt8WeightsEncoder
from pactkb.index.store import ModelMismatchError, Store
from pactkb.index.weight_int8 import WEIGHTS_INT8_FILE
from pactkb.settings import ENGLISH_MODEL, Settings
from tests.index.test_e5_rebuild import SENTENCES


def test_a_fresh_install_selects_the_multilingual_model(monkeypatch):
    import pactkb.settings as settings_module

    s = Settings()
    assert s.model == E5_NAME == "multilingual-e5-small" and s.encoder == "openvino"
    for native in (True, False):
        monkeypatch.setattr(settings_module, "cpu_has_bf16", lambda native=native: native)
        assert encoder_identity(s) == E5_NAME  # bf16 or fp32: one vector space, one name
    assert encoder_identity(s.model_copy(update={"precision": "int8-mixed"})) == f"{E5_NAME}@onnx-mixed-int8"
    assert query_kind(s.model_copy(update={"precision": "int8-mixed"})) == "passage"  # its graph encodes queries too
    torch = s.model_copy(update={"encoder": "torch"})
    assert encoder_identity(torch) == E5_NAME
    bf16, fp32 = s.model_copy(update={"precision": "bf16"}), s.model_copy(update={"precision": "fp32"})
    assert query_kind(bf16) == "passage"  # openvino in bf16 encodes its own queries unless int8-weights is asked for
    assert query_kind(fp32) == "onnx"  # in fp32 (no native bf16) ONNX Runtime encodes them faster, to the same vectors
    assert query_kind(fp32.model_copy(update={"query_encoder": "passage"})) == "passage"
    assert query_kind(fp32.model_copy(update={"model": ENGLISH_MODEL})) == "passage"
    assert query_kind(bf16.model_copy(update={"query_encoder": "int8-weights"})) == "int8-weights"
    assert query_kind(torch) == "onnx" and query_kind(torch.model_copy(update={"model": ENGLISH_MODEL})) == "passage"
    assert query_kind(torch.model_copy(update={"query_encoder": "passage"})) == "passage"
    assert query_kind(torch.model_copy(update={"query_encoder": "int8-weights"})) == "int8-weights"
    assert query_kind(s.model_copy(update={"model": "fake:8"})) == "passage"
    with pytest.raises(ModelLoadError, match="int8-weights needs --encoder openvino or torch"):
        query_kind(s.model_copy(update={"encoder": "onnx", "query_encoder": "int8-weights"}))


def test_the_query_encoder_leaves_the_recorded_encoder_alone(tmp_path):
    store = Store(tmp_path)
    facts = {}
    for s in (Settings(precision="fp32", query_encoder="int8-weights"), Settings(precision="fp32")):
        enc = LazyEncoder(s)
        f = encoder_facts(enc)
        facts[s.query_encoder] = (enc.name, f.precision, f.setting)
        store.bind_model(enc.name, 384, f.precision, "w1", f.setting)  # either order: one recorded encoder
    assert facts["auto"] == facts["int8-weights"] and "query_encoder" not in facts["auto"][2]
    assert store.get_meta("model") == E5_NAME
    int8 = Settings(encoder="onnx")
    with pytest.raises(ModelMismatchError, match="int8"):
        store.bind_model(encoder_identity(int8), 384, encoder_facts(LazyEncoder(int8)).precision, "w1")


def test_auto_precision_follows_the_cpu(monkeypatch):
    import pactkb.settings as settings_module

    for native, expected in ((True, "bf16"), (False, "fp32")):
        monkeypatch.setattr(settings_module, "cpu_has_bf16", lambda native=native: native)
        assert Settings().resolved_precision() == expected
        assert Settings(model=ENGLISH_MODEL).resolved_precision() == expected
        assert Settings(encoder="torch").resolved_precision() == expected
        assert Settings(encoder="onnx").resolved_precision() == "int8"
        assert Settings(precision="fp32").resolved_precision() == "fp32"


def test_a_store_recorded_with_auto_precision_reopens_at_the_precision_it_recorded(tmp_path, monkeypatch):
    """A store's recorded setting 'auto' is read as the precision it recorded (full precision as this CPU computes it
    fastest), whatever auto means now or later; with only the model named, a mixed int8 store keeps its precision; an
    explicit other precision is refused."""
    import pactkb.settings as settings_module
    from pactkb.index.encoder_factory import stored_settings
    from pactkb.index.kb import adopt_stored_encoder

    auto = {"model": E5_NAME, "encoder": "openvino", "precision": "auto"}
    for native, precision in ((False, "fp32"), (True, "bf16")):
        monkeypatch.setattr(settings_module, "cpu_has_bf16", lambda native=native: native)
        for recorded in ("fp32", "bf16"):
            assert stored_settings({"name": E5_NAME, "precision": recorded, "setting": auto})["precision"] == precision
    monkeypatch.setattr(settings_module, "cpu_has_bf16", lambda: False)
    store = Store(tmp_path)
    mixed_name = f"{E5_NAME}@onnx-mixed-int8"
    store.bind_model(mixed_name, 384, "int8-mixed", "w1", auto)
    for settings in (Settings(data=tmp_path), Settings(data=tmp_path, model=E5_NAME)):
        adopted = adopt_stored_encoder(settings, store)
        assert adopted.resolved_precision() == "int8-mixed" and encoder_identity(adopted) == mixed_name
    full = Settings(data=tmp_path, precision="fp32")
    assert adopt_stored_encoder(full, store) is full
    with pytest.raises(ModelMismatchError, match="onnx-mixed-int8"):
        store.bind_model(encoder_identity(full), 384, "fp32", "w1")


def test_mixed_int8_stores_are_named_apart_and_reopen_with_their_precision():
    from pactkb.index.encoder_factory import stored_settings

    name = f"{E5_NAME}@onnx-mixed-int8"
    assert encoder_identity(Settings(precision="int8-mixed")) == name
    assert encoder_identity(Settings(encoder="onnx", precision="int8-mixed")) == name
    assert stored_settings({"name": name}) == {"model": E5_NAME, "encoder": "onnx", "precision": "int8-mixed"}
    recorded = {"model": E5_NAME, "encoder": "openvino", "precision": "auto"}
    assert stored_settings({"name": name, "precision": "int8-mixed", "setting": recorded})["precision"] == "int8-mixed"
    fake = stored_settings(
        {"name": "fake-hash-8", "precision": "fake", "setting": {"model": "fake:8", "precision": "auto"}}
    )
    assert fake["precision"] == "auto"  # an engine's own precision stays auto
    with pytest.raises(ModelLoadError, match="int8-mixed needs --encoder openvino or onnx"):
        load_encoder(Settings(encoder="torch", precision="int8-mixed"))


@pytest.mark.model
def test_mixed_int8_passages_stay_close_to_full_precision_in_every_user_language(tmp_path):
    from pactkb.index.onnx_encoder import OnnxMixedInt8Encoder

    enc = load_encoder(Settings(data=tmp_path, precision="int8-mixed"))
    assert isinstance(enc, OnnxMixedInt8Encoder) and enc.name == f"{E5_NAME}@onnx-mixed-int8"
    assert enc.query_side is None and query_kind(Settings(precision="int8-mixed", query_encoder="onnx")) == "passage"
    full = SentenceTransformerEncoder(E5_NAME, precision="fp32")
    assert enc.max_tokens == full.max_tokens and enc.dim == 384
    for lang, texts in SENTENCES.items():
        passages = np.sum(enc.encode(texts) * full.encode(texts), axis=1)
        queries = np.sum(enc.encode_queries(texts) * full.encode_queries(texts), axis=1)
        assert passages.min() >= 0.995 and queries.min() >= 0.995, (lang, passages, queries)
        assert passages.max() < 0.99999, (lang, passages)  # computed in int8, not the fp32 graph


@pytest.mark.model
def test_default_vectors_equal_full_precision_ones_in_every_user_language(tmp_path):
    default = load_encoder(Settings(data=tmp_path, precision="bf16"))
    in_torch = load_encoder(Settings(data=tmp_path, encoder="torch", precision="bf16"))
    full = SentenceTransformerEncoder(E5_NAME, precision="fp32")
    assert isinstance(default, OpenVinoEncoder) and default.precision == "bf16" and default.name == E5_NAME
    assert default.max_tokens == full.max_tokens and default.dim == 384
    assert in_torch.query_side is not None and in_torch.query_side.precision == "fp32"
    assert default.query_side is None
    int8_queries = query_side(Settings(data=tmp_path, precision="bf16", query_encoder="int8-weights"))
    assert isinstance(int8_queries, OpenVinoInt8WeightsEncoder) and int8_queries.name == E5_NAME
    graph = onnx.load(str(export_dir(Settings(data=tmp_path)) / WEIGHTS_INT8_FILE))
    uint8 = [
        t.name for t in graph.graph.initializer if t.data_type == onnx.TensorProto.UINT8 and t.name.endswith("_uint8")
    ]
    assert len(uint8) == 12 * 4 + 1  # per layer: attention's qkv and three MatMuls; the word embeddings
    for lang, texts in SENTENCES.items():
        expected_p, expected_q = full.encode(texts), full.encode_queries(texts)
        int8_cos = np.sum(int8_queries.encode_queries(texts) * expected_q, axis=1)
        assert int8_cos.min() >= 0.999 and int8_cos.max() < 0.999999, (lang, int8_cos)  # close, not the fp32 graph
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


@pytest.mark.model
def test_queries_padded_to_a_multiple_of_tokens_keep_their_vectors(tmp_path, monkeypatch):
    enc = load_encoder(Settings(data=tmp_path, precision="bf16", query_shapes=""))  # every shape on the dynamic graph
    assert isinstance(enc, OpenVinoEncoder) and enc.query_pad == QUERY_PAD_TOKENS > 1
    queries = [s for group in SENTENCES.values() for s in group] + ["pranje novca", "a", "x " * 40]
    lengths = [len(enc.tokenizer(enc.query_prefix + q)["input_ids"]) for q in queries]
    assert any(n % enc.query_pad for n in lengths)  # some queries are padded
    shapes: list[int] = []
    run = enc._run
    monkeypatch.setattr(enc, "_run", lambda feeds: shapes.append(feeds["input_ids"].shape[1]) or run(feeds))
    padded = np.stack([enc.encode_queries([q])[0] for q in queries])
    pad = enc.query_pad
    assert shapes == [-(-n // pad) * pad for n in lengths]  # the few shapes the runtime meets again and again
    shapes.clear()
    unpadded = np.stack([enc._batch([enc.query_prefix + q])[0] for q in queries])  # as passages are: own length
    assert shapes == lengths
    assert np.all(np.sum(padded * unpadded, axis=1) >= 1 - 1e-4)
    shapes.clear()
    monkeypatch.setattr(enc, "query_pad", 0)  # off: each query at its own length
    enc.encode_queries(queries[:3])
    assert shapes == [max(lengths[:3])]


def test_query_shapes_are_read_as_texts_by_tokens():
    assert Settings(query_shapes="1x32,2x32").query_shape_list() == ((1, 32), (2, 32))
    assert Settings(query_shapes="").query_shape_list() == ()
    with pytest.raises(ValueError, match="query_shapes"):
        Settings(query_shapes="32")


@pytest.mark.model
def test_queries_of_a_compiled_shape_run_on_its_static_graph_with_the_dynamic_graphs_vectors(tmp_path, monkeypatch):
    enc = load_encoder(Settings(data=tmp_path, precision="bf16", query_shapes="1x32,2x32"))
    assert isinstance(enc, OpenVinoEncoder) and enc.query_shapes == ((1, 32), (2, 32))
    assert enc._static == {}  # nothing compiled before a query needs it: ingest never pays for them
    long = "Kako carinici provjeravaju kurire s gotovinom na granici i koje dokaze traže?"  # 17-32 tokens
    short = "pranje novca"
    assert 16 < len(enc.tokenizer(enc.query_prefix + long)["input_ids"]) <= 32
    static_runs: list[tuple[int, int]] = []
    dynamic_runs: list[tuple[int, int]] = []
    request = enc._request
    monkeypatch.setattr(
        enc,
        "_request",
        lambda compiled: (
            (static_runs if compiled is not enc._compiled else dynamic_runs).append(id(compiled)) or request(compiled)
        ),
    )
    enc.encode_queries([long])
    assert sorted(enc._static) == [(1, 32)]  # compiled at its first query
    enc.warm_up_queries()
    assert sorted(enc._static) == [(1, 32), (2, 32)]
    static_runs.clear()
    queries = [[long], [long, short], [short], [long, long, short]]
    vectors = [enc.encode_queries(q) for q in queries]
    assert static_runs == [id(enc._static[(1, 32)]), id(enc._static[(2, 32)])]  # 1x32, 2x32
    assert len(dynamic_runs) == 2  # 1x16 and 3x32 have no graph of their own
    monkeypatch.setattr(enc, "_static", {})  # every shape on the dynamic graph
    for q, v in zip(queries, vectors, strict=True):
        assert np.all(np.sum(enc.encode_queries(q) * v, axis=1) >= 1 - 1e-4)


@pytest.mark.model
def test_a_separate_query_encoder_compiles_no_query_shapes(tmp_path):
    enc = load_encoder(Settings(data=tmp_path, precision="bf16", query_encoder="int8-weights"))
    assert isinstance(enc, OpenVinoEncoder) and enc.query_side is not None and enc.query_shapes == ()
    enc.warm_up_queries()
    assert enc._static == {}
    off = load_encoder(Settings(data=tmp_path, precision="bf16", query_shapes=""))
    assert isinstance(off, OpenVinoEncoder) and off.query_shapes == ()


@pytest.mark.model
def test_a_searchers_warm_up_compiles_the_query_shapes(tmp_path):
    kb = KnowledgeBase(Settings(data=tmp_path / "d", precision="bf16", parse_workers=0, dictionaries="", apertium=""))
    assert isinstance(kb.encoder, LazyEncoder)
    kb.searcher.warm_up()
    inner = kb.encoder.inner()
    assert isinstance(inner, OpenVinoEncoder) and sorted(inner._static) == [(1, 32), (2, 32)]


@pytest.mark.model
def test_openvino_in_fp32_encodes_queries_with_onnx_runtime_to_the_same_vectors(tmp_path):
    from pactkb.index.onnx_encoder import OnnxEncoder

    enc = load_encoder(Settings(data=tmp_path, precision="fp32"))
    assert isinstance(enc, OpenVinoEncoder) and enc.precision == "fp32"
    assert isinstance(enc.query_side, OnnxEncoder) and enc.query_side.precision == "fp32"
    assert enc.query_shapes == ()  # no OpenVINO query graphs compiled that nothing would run
    texts = [t for lang in ("sr-Cyrl", "sq", "mk", "en") for t in SENTENCES[lang]]
    by_onnx = enc.encode_queries(texts)
    queries, enc.query_side = enc.query_side, None
    by_openvino = enc.encode_queries(texts)
    enc.query_side = queries
    assert np.sum(by_onnx * by_openvino, axis=1).min() >= 0.9999  # the store's passages keep their queries' space
