"""Sidecar manifests (TSV, CSV or YAML with a `file` column) that override inferred metadata."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pactkb.ingest.language import stored_language
from pactkb.ingest.types import AREAS, DOC_TYPES
from pactkb.settings import SENSITIVITY_LEVELS

MANIFEST_NAMES = ("MANIFEST.tsv", "manifest.tsv", "MANIFEST.csv", "manifest.csv", "manifest.yaml", "manifest.yml")

_TYPE_ALIASES = {
    "guidelines": "guideline",
    "guidance": "guideline",
    "good practice": "guideline",
    "threat_assessment": "threat assessment",
    "threat-assessment": "threat assessment",
    "socta": "threat assessment",
    "training": "training material",
    "training_material": "training material",
    "course": "training material",
    "course material": "training material",
    "law": "legislation",
    "regulation": "legislation",
}
_AREA_ALIASES = {
    "fraud": AREAS[0],
    "economic crime": AREAS[0],
    "financial crime": AREAS[0],
    "fraud/economic/financial crime": AREAS[0],
    "money laundering": AREAS[0],
    "drugs": AREAS[1],
    "drug trafficking": AREAS[1],
    "drugs trafficking": AREAS[1],
    "criminal networks": AREAS[2],
    "high-risk criminal networks": AREAS[2],
    "hrcn": AREAS[2],
    "organised crime": AREAS[2],
    "cyber": AREAS[3],
    "cyber-attacks": AREAS[3],
    "cybercrime": AREAS[3],
    "migrant smuggling": AREAS[4],
    "smuggling": AREAS[4],
    "terrorism": AREAS[5],
    "ct": AREAS[5],
    "counter-terrorism": AREAS[5],
    "counter terrorism": AREAS[5],
    "cross-cutting": AREAS[6],
    "cross cutting": AREAS[6],
    "financial investigation": AREAS[6],
    "international cooperation": AREAS[6],
}


class ManifestError(ValueError):
    """The manifest file itself cannot be used (unreadable, no `file` column)."""


@dataclass
class ManifestEntry:
    """Validated overrides for one file, warnings for values that were rejected, and the refusal of a rejected value
    that stops the file from being ingested (a sensitivity: guessing one could publish a restricted document)."""

    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    refusal: str | None = None


def normalize_doc_type(value: str) -> str | None:
    """Canonical document type for a user-supplied value, or None if unknown."""
    v = value.strip().lower()
    v = _TYPE_ALIASES.get(v, v)
    return v if v in DOC_TYPES else None


def _area_words(value: str) -> tuple[str, ...]:
    """An area name reduced to its words: 'Fraud, economic and financial crime' ~ 'fraud/economic/financial crime'."""
    return tuple(w for w in re.findall(r"[^\W_]+", value.lower()) if w not in ("and", "or"))


_AREA_BY_WORDS = {_area_words(name): area for name, area in [*((a, a) for a in AREAS), *_AREA_ALIASES.items()]}
AREA_SHORT_NAMES = tuple(name for name in _AREA_ALIASES if " " not in name and name not in AREAS)


def normalize_area(value: str) -> str | None:
    """Canonical priority area for a value, its label as the page shows it, or a short name; None if unknown."""
    return _AREA_BY_WORDS.get(_area_words(value))


def unknown_area(value: str) -> str:
    """The error for an unknown area, listing what is allowed."""
    return (
        f"unknown area {value.strip()!r} (allowed: {'; '.join(AREAS)}; or a short name: {', '.join(AREA_SHORT_NAMES)})"
    )


def unknown_doc_type(value: str) -> str:
    """The error for an unknown document type, listing what is allowed."""
    return f"unknown document type {value.strip()!r} (allowed: {', '.join(DOC_TYPES)})"


def parse_areas(value: str) -> list[str]:
    """Areas from a form value: one area (commas allowed inside it, as in the page's labels) or a list separated by
    ';', '|' or ','; raise ValueError naming the first unknown one."""
    out: list[str] = []
    for part in split_areas(value):
        pieces = part.split(",")
        i = 0
        while i < len(pieces):
            for j in range(len(pieces), i, -1):  # the longest run of comma pieces that names an area
                area = normalize_area(",".join(pieces[i:j]))
                if area is not None:
                    out.append(area)
                    i = j
                    break
            else:
                raise ValueError(unknown_area(pieces[i]))
    return list(dict.fromkeys(out))


def split_areas(value: str | list[str]) -> list[str]:
    """Areas given as a list or a ';' / '|' separated string."""
    if isinstance(value, list):
        return [str(v) for v in value]
    for sep in (";", "|"):
        if sep in value:
            return [v for v in value.split(sep) if v.strip()]
    return [value] if value.strip() else []


def validate_row(row: dict[str, Any], at: Callable[[str], str]) -> ManifestEntry:
    """Turn one manifest row into typed overrides; bad values become warnings naming where the field is (`at`: the
    place of a field, e.g. "MANIFEST.tsv line 5, column 'language' (a.pdf)")."""
    entry = ManifestEntry()

    def warn(k: str, problem: str) -> None:
        """Record a rejected value, naming its place."""
        entry.warnings.append(f"{at(k)}: {problem}")

    for key, raw in row.items():
        if key is None or raw is None:
            continue
        k = key.strip().lower()
        val = raw if isinstance(raw, list) else str(raw).strip()
        if val in ("", "n.d.", "nd", "-", "unknown"):
            continue
        if k == "title" or k == "publisher":
            entry.values[k] = val
        elif k == "year":
            try:
                year = int(str(val)[:4])
                if not 1800 <= year <= 2200:
                    raise ValueError
                entry.values["year"] = year
            except ValueError:
                warn(k, f"not a year: {val!r}")
        elif k in ("language", "lang"):
            try:  # the document keeps the language it has (detected, or set before)
                entry.values["language"] = stored_language(str(val))
            except ValueError as exc:
                warn(k, str(exc))
        elif k in ("type", "doc_type", "document_type"):
            dt = normalize_doc_type(str(val))
            if dt is None:
                warn(k, f"unknown type {val!r} (allowed: {', '.join(DOC_TYPES)})")
            else:
                entry.values["doc_type"] = dt
        elif k in ("area", "areas"):
            areas = []
            for a in split_areas(val):
                norm = normalize_area(a)
                if norm is None:
                    warn(k, unknown_area(a))
                elif norm not in areas:
                    areas.append(norm)
            if areas:
                entry.values["areas"] = areas
        elif k in ("series", "edition"):
            entry.values[k] = str(val)[:200]
        elif k == "sensitivity":
            if str(val).lower() in SENSITIVITY_LEVELS:
                entry.values["sensitivity"] = str(val).lower()
            else:  # fail closed: the file waits for a valid level rather than getting a guessed one
                entry.refusal = (
                    f"{at(k)}: {val!r} is not one of {', '.join(SENSITIVITY_LEVELS)}; the file was not ingested or "
                    "updated (fix the manifest and ingest again)"
                )
    return entry


@dataclass
class _Row:
    """One manifest row: its values, its line (YAML: where it starts; CSV/TSV: where it ends, a quoted value may span
    lines) and (YAML) the line of each key."""

    values: dict[str, Any]
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)


def _yaml_rows(path: Path, text: str) -> list[_Row]:
    """The rows of a YAML manifest (a list of mappings, or documents: / files: [...]) with their lines."""
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise ManifestError(f"{path}: invalid YAML: {exc}") from exc
    if isinstance(data, dict):
        key = "documents" if "documents" in data else "files"
        data = data.get(key)
        node = next((v for k, v in getattr(node, "value", []) if getattr(k, "value", None) == key), None)
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ManifestError(f"{path}: YAML manifest must be a list of mappings (or documents: [...])")
    items = list(getattr(node, "value", []))
    rows = []
    for i, values in enumerate(data):
        item = items[i] if i < len(items) else None
        pairs = list(getattr(item, "value", [])) if isinstance(item, yaml.MappingNode) else []
        rows.append(
            _Row(
                values,
                item.start_mark.line + 1 if item is not None else i + 1,
                {str(k.value).strip().lower(): k.start_mark.line + 1 for k, _ in pairs},
            )
        )
    return rows


def _rows(path: Path) -> list[_Row]:
    """The rows of a TSV, CSV or YAML manifest, each with the line it is on."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read manifest: {exc}") from exc
    if path.suffix.lower() in (".yaml", ".yml"):
        return _yaml_rows(path, text)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    return [_Row(row, reader.line_num) for row in reader]  # line_num: the line the row ends on


def load_manifest(path: Path) -> dict[str, ManifestEntry]:
    """Entries keyed by the `file` column (as written, and by base name); a rejected value's warning names the
    manifest, its line and the column."""
    rows = _rows(path)
    if rows and not any("file" in {str(k).strip().lower() for k in r.values if k is not None} for r in rows[:1]):
        raise ManifestError(f"{path}: manifest has no 'file' column")
    tabular = path.suffix.lower() in (".tsv", ".csv")
    entries: dict[str, ManifestEntry] = {}
    for row in rows:
        norm = {str(k).strip().lower(): v for k, v in row.values.items() if k is not None}
        name = str(norm.pop("file", "") or "").strip()
        if not name:
            continue

        def at(k: str, row: _Row = row, name: str = name) -> str:
            """Where a field of this row is: the manifest, the line, the column (or YAML key), the file."""
            place = f"column {k!r}" if tabular else f"field {k!r}"
            return f"{path.name} line {row.key_lines.get(k, row.line)}, {place} ({name})"

        entry = validate_row(norm, at)
        entries[name] = entry
        entries.setdefault(Path(name).name, entry)
    return entries


def find_manifests(start: Path, stop: Path) -> list[Path]:
    """Manifest files in `start` and its ancestors up to `stop` (nearest first)."""
    found: list[Path] = []
    cur = start.resolve()
    stop = stop.resolve()
    while True:
        for name in MANIFEST_NAMES:
            p = cur / name
            if p.is_file():
                found.append(p)
                break
        if cur == stop or cur.parent == cur:
            break
        cur = cur.parent
    return found


class ManifestLookup:
    """Manifest values for the files of one ingestion run: an explicit manifest, or the nearest one in a file's
    folder or its parents up to the ingested folder's parent (each manifest read once; unreadable ones warn)."""

    def __init__(self, roots: list[Path], explicit: Path | None = None) -> None:
        """Read the explicit manifest now (a ManifestError stops the run before anything is written)."""
        self.roots = [r.resolve() for r in roots if r.is_dir()]
        self.explicit = load_manifest(explicit) if explicit else None
        self.cache: dict[Path, dict[str, ManifestEntry]] = {}
        self.broken: dict[Path, str] = {}  # manifests that could not be read: why
        self.warnings: list[dict[str, str]] = []

    def _warn(self, file: Path, warning: str) -> None:
        """Record a warning once."""
        item = {"file": str(file), "warning": warning}
        if item not in self.warnings:
            self.warnings.append(item)

    def _sources(self, path: Path) -> list[tuple[Path | None, dict[str, ManifestEntry]]]:
        """The manifests that may describe a file, nearest first, with their paths (None: the explicit one)."""
        if self.explicit is not None:
            return [(None, self.explicit)]
        root = next((r for r in self.roots if path.is_relative_to(r)), path.parent)
        sources: list[tuple[Path | None, dict[str, ManifestEntry]]] = []
        for mpath in find_manifests(path.parent, root.parent):
            if mpath not in self.cache:
                try:
                    self.cache[mpath] = load_manifest(mpath)
                except ValueError as exc:
                    self.broken[mpath] = str(exc)
                    self.cache[mpath] = {}
            sources.append((mpath, self.cache[mpath]))
        return sources

    def _entry(self, path: Path) -> tuple[ManifestEntry | None, Path | None]:
        """The nearest manifest entry for a file (by full path, then base name), or the nearest unreadable manifest
        met before one (it may have described the file)."""
        for mpath, src in self._sources(path):
            if mpath is not None and mpath in self.broken:
                return None, mpath
            entry = src.get(str(path)) or src.get(path.name)
            if entry:
                return entry, None
        return None, None

    def for_file(self, path: Path) -> tuple[dict[str, Any], str | None]:
        """A file's validated overrides (by full path, then base name; the nearest manifest wins) and why it must not
        be ingested or updated now, or None: its row's sensitivity is not a level, or a manifest that may describe it
        cannot be read (its sensitivity is unknown: fail closed)."""
        entry, broken = self._entry(path)
        if broken is not None:
            return {}, (
                f"{broken}: the manifest cannot be read ({self.broken[broken]}); the file was not ingested or updated, "
                "as the sensitivity it may set is unknown (fix the manifest and ingest again)"
            )
        if entry is None:
            return {}, None
        for w in entry.warnings:
            self._warn(path, w)
        return dict(entry.values), entry.refusal
