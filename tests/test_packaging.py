"""pyproject.toml: what setuptools would warn about on `pip install -e .` (license form, unlisted data folders)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_license_is_an_spdx_string() -> None:
    assert isinstance(CONFIG["project"]["license"], str)


def test_data_folders_are_listed_packages() -> None:
    """Package data reaching into a sub-folder makes setuptools warn: each data folder is a package of its own."""
    tool = CONFIG["tool"]["setuptools"]
    for package, globs in tool["package-data"].items():
        assert package in tool["packages"], package
        assert not any("/" in g for g in globs), (package, globs)
    for folder in (ROOT / "api" / "web").rglob("*"):
        if folder.is_dir() and any(f.is_file() for f in folder.iterdir()):
            assert "pactkb.api." + ".".join(folder.relative_to(ROOT / "api").parts) in tool["packages"], folder
