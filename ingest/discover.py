"""Find the files to ingest under the paths a user gave: supported files, bad arguments, and what is skipped."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pactkb.ingest.manifest import MANIFEST_NAMES
from pactkb.ingest.parse import SUPPORTED_SUFFIXES

UNSUPPORTED = "unsupported file type {suffix} (PDF, .txt, .md)"


@dataclass
class Discovery:
    """What discovery found: supported files (resolved, sorted, unique), errors for bad arguments, and the other
    files of the folders with the reason they are skipped (hidden files and manifests are not listed)."""

    files: list[Path] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)


def _unsupported(path: Path) -> str:
    """Why a file is not ingested."""
    return UNSUPPORTED.format(suffix=path.suffix or "(none)")


def discover(paths: Iterable[Path]) -> Discovery:
    """Supported files under the given files and folders (recursive, hidden folders left out)."""
    found: list[Path] = []
    errors: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    fp = Path(root) / name
                    if name.startswith(".") or name in MANIFEST_NAMES:
                        continue
                    if fp.suffix.lower() in SUPPORTED_SUFFIXES:
                        found.append(fp.resolve())
                    else:
                        skipped.append({"file": str(fp), "reason": _unsupported(fp)})
        elif p.is_file():
            if p.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(p.resolve())
            else:
                errors.append({"file": str(p), "error": _unsupported(p)})
        else:
            errors.append({"file": str(p), "error": "no such file or directory"})
    return Discovery(list(dict.fromkeys(found)), errors, list({s["file"]: s for s in skipped}.values()))
