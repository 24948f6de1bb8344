"""Publishing files atomically: write to a temporary name no other writer uses, then rename over the target."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def temp_beside(target: Path, suffix: str = ".tmp") -> Path:
    """A hidden temporary path in the target's folder, unique to this writer (process id and a random part), so two
    processes or threads publishing the same file never write, rename or delete each other's temporary file."""
    return target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}{suffix}")


def write_atomic(target: Path, data: bytes) -> None:
    """Replace `target` with `data` all at once: readers see the old content or the new, never a part."""
    tmp = temp_beside(target)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
