"""Pydantic models for what crosses the HTTP boundary."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from pactkb.api.auth import KEY_NAME
from pactkb.index.profile import STAGES
from pactkb.ingest.language import EXAMPLE_CODES
from pactkb.ingest.types import AREAS, DOC_TYPES
from pactkb.settings import DEFAULT_MODE, MAX_OFFSET, MAX_PAGE_SIZE, Role, SearchMode, Sensitivity, Settings

YEAR_HELP = "A year (2020) or a range: 2020-2025, 2020- (from), -2025 (until)."
LANGUAGE_HELP = (
    f"ISO 639-1 code(s), e.g. {EXAMPLE_CODES}; ISO 639-2/3 codes (srp), tags (sr-Latn) and English names "
    "(Serbian) are read as the two-letter code; anything else is a 422 listing the languages you may search."
)
PROFILE_HELP = "true: the response carries `timings`, milliseconds per search stage (as Elasticsearch's profile)."
QUERY_LIMIT = (
    f"at most PACTKB_MAX_QUERY_CHARS characters ({Settings.model_fields['max_query_chars'].default} by default)"
)


def one_or_many(value: Any) -> Any:
    """A filter's single value as a one-value list ({"type": "guideline"}, as GET takes type=guideline)."""
    return [value] if isinstance(value, str) else value


def year_text(value: Any) -> Any:
    """A year given as a number (2020) as the text the year filter reads ("2020")."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else value


Values = Annotated[list[str] | None, BeforeValidator(one_or_many)]


class SearchFilters(BaseModel):
    """Filters accepted by search and document listing (unknown keys are rejected); a list filter takes one value or
    a list, the year a number or a range."""

    model_config = ConfigDict(extra="forbid")

    type: Values = Field(default=None, description=f"Document type(s): {', '.join(DOC_TYPES)}.")
    area: Values = Field(default=None, description=f"Priority area(s): {', '.join(AREAS)}.")
    language: Values = Field(default=None, description=LANGUAGE_HELP)
    publisher: Values = None
    document: Values = Field(default=None, description="Document id(s).")
    year: Annotated[str | None, BeforeValidator(year_text)] = Field(default=None, max_length=20, description=YEAR_HELP)
    year_min: int | None = Field(default=None, ge=1800, le=2200, deprecated="use year: '2020-'")
    year_max: int | None = Field(default=None, ge=1800, le=2200, deprecated="use year: '-2025'")
    sensitivity: Values = Field(default=None, description="public, restricted, confidential (within your clearance).")
    current: bool | None = Field(
        default=None,
        description="true: current editions only (leave out documents superseded by a newer edition you may see).",
    )

    def as_mapping(self) -> dict[str, Any]:
        """The filters as {public name: values} for Filters.from_mapping."""
        return {
            k: (str(v).lower() if isinstance(v, bool) else v)
            for k, v in self.model_dump().items()
            if v not in (None, [], False)
        }


class SearchRequest(BaseModel):
    """POST /search body."""

    model_config = ConfigDict(extra="forbid")

    q: str = Field(
        min_length=1, description=f"The question, in the user's own words (formerly `query`); {QUERY_LIMIT}."
    )
    k: int = Field(default=10, ge=1, le=MAX_PAGE_SIZE)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    mode: SearchMode = DEFAULT_MODE
    filters: SearchFilters = Field(default_factory=SearchFilters)
    group_by_document: bool = False
    profile: bool = Field(default=False, description=PROFILE_HELP)

    @model_validator(mode="before")
    @classmethod
    def old_query_name(cls, data: Any) -> Any:
        """Accept the old name `query` for `q` (one release; the route adds a Deprecation header)."""
        if isinstance(data, dict) and "query" in data and "q" not in data:
            data = {("q" if k == "query" else k): v for k, v in data.items()}
        return data

    @field_validator("q")
    @classmethod
    def not_blank(cls, v: str) -> str:
        """A query must contain something besides whitespace."""
        if not v.strip():
            raise ValueError("query must not be blank")
        return v

    @property
    def query(self) -> str:
        """The question (the field's old name)."""
        return self.q


class AlsoIn(BaseModel):
    """A near-duplicate passage in another document."""

    document_id: str
    title: str
    file: str
    chunk_id: int
    page_start: int
    page_end: int
    year: int | None = None
    file_url: str | None = None


class MorePage(BaseModel):
    """Another matching passage of the same document (group by document)."""

    chunk_id: int
    page_start: int
    page_end: int
    section: str
    score: float


class Superseded(BaseModel):
    """A newer edition of a document."""

    document_id: str
    title: str
    year: int | None


class HitModel(BaseModel):
    """One search result."""

    rank: int
    score: float
    chunk_id: int
    document_id: str
    file: str
    title: str
    page_start: int
    page_end: int
    page_label: str | None
    section: str
    snippet: str = Field(description="HTML-escaped text with <mark> around matched terms.")
    text: str
    publisher: str | None
    year: int | None
    doc_type: str
    language: str | None
    areas: list[str]
    sensitivity: str
    dense_score: float | None
    lexical_score: float | None
    file_url: str = Field(description="The original file; append #page=N to open it at the page.")
    page_url: str = Field(description="file_url#page=<page_start>.")
    also_in: list[AlsoIn] = []
    more_pages: list[MorePage] = []
    region: str = Field(
        default="body",
        description="What the passage is: body, footnote, contents, index, references, front (a cover, title, "
        "imprint or acknowledgements page) or acronyms (a list of acronyms); all but body rank below body text.",
    )
    superseded_by: Superseded | None = Field(
        default=None, description="The newest edition of this document's family that you may see, when it is newer."
    )
    section_pages: tuple[int, int] | None = Field(
        default=None,
        description="First and last page of the passage's section: open this range when an answer "
        "spreads over the section (null for a section of 30 pages or more: a part or all of the document).",
    )


class SearchResponse(BaseModel):
    """Search results with timing, total, facets and the no-good-answer flag."""

    query: str
    mode: str
    took_ms: float
    total: int = Field(
        description="Results the search found: the same on every page of a query within the candidates it shares "
        "(PACTKB_TOTAL_DEPTH), exact or a lower bound as total_relation says."
    )
    total_relation: Literal["eq", "gte"] = Field(
        default="eq",
        description="'eq': total is every result; 'gte': at least total (more lie beyond the candidates searched, "
        "as Elasticsearch's hits.total.relation).",
    )
    offset: int
    k: int
    no_good_answer: bool | None = Field(
        description="True: nothing you may see answers this well (the best passages miss most of the query's words "
        "although the knowledge base knows them). None: cannot tell (mostly words the knowledge base does not know, "
        "e.g. another language)."
    )
    query_language: str | None = Field(
        default=None, description="The query's language as detected (ISO 639-1), None when unsure or in dense mode."
    )
    query_translation: list[str] = Field(
        default_factory=list,
        description="English words a query in another language was also searched with "
        "(bilingual dictionaries, nearest corpus words); empty for English queries and in dense mode.",
    )
    query_expansion: list[str] = Field(
        default_factory=list,
        description="Field synonyms and acronyms the query was also searched with (pactkb's "
        "curated list and team files: 'smurfing' -> 'structuring'); empty in dense mode.",
    )
    results: list[HitModel]
    facets: dict[str, dict[str, int]]
    timings: dict[str, float] | None = Field(
        default=None,
        description=f"Only when the request asked for profile=true: ms per search stage ({', '.join(STAGES)}), "
        "`other` for the rest and `total`; the stages add up to the total.",
    )

    @model_serializer(mode="wrap")
    def drop_unasked_timings(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave `timings` out of the response unless the search was profiled."""
        data = handler(self)
        if data.get("timings") is None:
            data.pop("timings", None)
        return data


class DocumentSummary(BaseModel):
    """A document in lists."""

    id: str
    title: str
    publisher: str | None
    year: int | None
    language: str | None
    doc_type: str
    areas: list[str]
    sensitivity: str
    inferred: list[str]
    pages: int
    kind: str
    source_name: str
    origin: str
    owner: str | None
    created_at: float
    updated_at: float
    file_url: str


class PageInfo(BaseModel):
    """One page of a document."""

    number: int
    label: str | None
    ocr: bool
    scanned: bool
    chars: int


class TocEntry(BaseModel):
    """A heading of the document."""

    level: int
    title: str
    page: int


class DocumentDetail(DocumentSummary):
    """A document with pages, table of contents and chunk count."""

    chunk_count: int
    page_list: list[PageInfo]
    toc: list[TocEntry]
    warnings: list[str]
    size: int
    superseded_by: Superseded | None = Field(
        default=None, description="The newest edition of this document's family that you may see, when it is newer."
    )


class DocumentList(BaseModel):
    """A page of documents."""

    total: int
    offset: int
    limit: int
    items: list[DocumentSummary]


class ChunkModel(BaseModel):
    """One chunk with its document's essentials."""

    id: int
    document_id: str
    title: str
    ord: int
    text: str
    page_start: int
    page_end: int
    label_start: str | None
    label_end: str | None
    section: str
    n_tokens: int
    file_url: str
    page_url: str
    overlap: int = Field(
        default=0,
        description="Characters at the start of `text` that repeat the end of the previous "
        "passage (chunk overlap): read a document without repeats as text[overlap:].",
    )


class ChunkList(BaseModel):
    """A document's chunks, paginated."""

    total: int
    offset: int
    limit: int
    items: list[ChunkModel]


class DocumentPatch(BaseModel):
    """Editable metadata (PATCH /documents/{id})."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=500)
    publisher: str | None = Field(default=None, max_length=300)
    year: int | None = Field(default=None, ge=1800, le=2200)
    language: str | None = Field(
        default=None,
        min_length=2,
        max_length=64,
        description="ISO 639-1 code, ISO 639-2/3 code, tag (sr-Latn) or English name (Serbian), stored as the "
        "two-letter code; a value that names no language is a 422. null clears it.",
    )
    doc_type: str | None = None
    areas: list[str] | None = None
    sensitivity: Sensitivity | None = None


class FileResult(BaseModel):
    """The outcome of one uploaded file."""

    file: str
    status: Literal["queued", "running", "indexed", "duplicate", "failed"]
    document_id: str | None = None
    error: str | None = None
    chunks: int | None = None
    message: str | None = Field(
        default=None, description="For a duplicate: the file is already there, as this document."
    )
    not_applied: list[str] | None = Field(
        default=None,
        description="For a duplicate: the metadata fields of the upload the existing document does not "
        "have (they were not applied to it).",
    )


class JobModel(BaseModel):
    """An upload/ingestion job."""

    id: str
    status: Literal["queued", "running", "done", "failed"]
    created_at: float
    started_at: float | None
    finished_at: float | None
    files: list[FileResult]


class KeyCreate(BaseModel):
    """POST /keys body."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=KEY_NAME)
    role: Role = "reader"
    clearance: Sensitivity = "public"


class KeyInfo(BaseModel):
    """An API key's public description (never the secret)."""

    name: str
    prefix: str
    role: str
    clearance: str
    created_at: float
    revoked_at: float | None


class KeyCreated(KeyInfo):
    """A new key: the secret is shown once."""

    key: str


class Me(BaseModel):
    """The caller as the service sees them."""

    name: str
    role: str
    clearance: str
    anonymous: bool
    can_upload: bool
    via: str


class ErrorItem(BaseModel):
    """One problem with a request."""

    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error response."""

    detail: str
    errors: list[ErrorItem] = []
