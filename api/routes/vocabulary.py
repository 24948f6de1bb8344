"""GET /vocabulary: the values the API accepts, from their one source; clients (the search page) never re-type them."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from pactkb.api.auth import ROLES
from pactkb.ingest.types import AREAS, DOC_TYPES
from pactkb.settings import DEFAULT_MODE, SEARCH_MODES, SENSITIVITY_LEVELS

router = APIRouter(tags=["service"])


class Vocabulary(BaseModel):
    """Each vocabulary in its canonical order."""

    doc_types: list[str] = Field(description="Document types (the `type` filter and metadata field).")
    areas: list[str] = Field(description="Priority areas (the `area` filter and metadata field).")
    sensitivities: list[str] = Field(
        description="Sensitivity labels, least to most restricted (a clearance sees its own label and those before it)."
    )
    modes: list[str] = Field(description="Search modes.")
    default_mode: str = Field(description="The mode of a search that names none.")
    roles: list[str] = Field(description="Key roles, least to most able.")


VOCABULARY = Vocabulary(
    doc_types=list(DOC_TYPES),
    areas=list(AREAS),
    sensitivities=list(SENSITIVITY_LEVELS),
    modes=list(SEARCH_MODES),
    default_mode=DEFAULT_MODE,
    roles=list(ROLES),
)


@router.get("/vocabulary", response_model=Vocabulary, summary="Accepted values")
def vocabulary() -> Vocabulary:
    """Document types, priority areas, sensitivity labels, search modes (and the default) and roles, as the API
    accepts them (the same for every caller: a label says nothing about which documents carry it)."""
    return VOCABULARY
