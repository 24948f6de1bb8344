"""scripts/system-deps: installs only the Debian packages that are missing, as root or through sudo, or says how."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "system-deps"


def fake_bin(folder: Path, name: str, body: str) -> None:
    """Write an executable shell script `name` into folder."""
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


@pytest.fixture
def machine(tmp_path: Path):
    """A PATH of fake dpkg/apt-get/id/sudo that log their calls; `missing` lists packages dpkg does not know."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    missing = tmp_path / "missing"
    missing.write_text("")
    removed = tmp_path / "removed"  # missing packages that left their config files behind (apt-get remove)
    removed.write_text("")

    def run(uid: int = 0, sudo: bool = False, args: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
        fake_bin(
            bin_dir,
            "dpkg-query",
            f'pkg="$3"; grep -qx "$pkg" {missing} && '
            f'{{ grep -qx "$pkg" {removed} && printf "deinstall ok config-files"; exit 0; }}; '
            'printf "install ok installed"',
        )
        fake_bin(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}')
        fake_bin(bin_dir, "id", f"echo {uid}")
        fake_bin(bin_dir, "python3.11", "exit 0")
        if sudo:
            fake_bin(
                bin_dir, "sudo", f'echo "sudo $*" >> {log}; [ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; "$@"'
            )
        elif (bin_dir / "sudo").exists():
            (bin_dir / "sudo").unlink()
        env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)}
        return subprocess.run(
            ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60
        )

    def calls() -> list[str]:
        return log.read_text().splitlines() if log.exists() else []

    run.missing = missing  # type: ignore[attr-defined]
    run.removed = removed  # type: ignore[attr-defined]
    run.calls = calls  # type: ignore[attr-defined]
    return run


def test_a_prepared_machine_installs_nothing(machine) -> None:
    result = machine()
    assert result.returncode == 0, result.stderr
    assert machine.calls() == []
    assert result.stdout == ""


def test_only_the_missing_packages_are_installed_as_root(machine) -> None:
    machine.missing.write_text("chromium\ntesseract-ocr-mkd\n")
    result = machine(uid=0)
    assert result.returncode == 0, result.stderr
    installs = [c for c in machine.calls() if " install " in c]
    assert len(installs) == 1
    assert installs[0].split()[-2:] == ["tesseract-ocr-mkd", "chromium"]
    assert any(c.startswith("apt-get update") for c in machine.calls())
    assert "chromium" in result.stdout


def test_without_root_it_goes_through_sudo(machine) -> None:
    machine.missing.write_text("fonts-dejavu-core\n")
    result = machine(uid=1000, sudo=True)
    assert result.returncode == 0, result.stderr
    assert any(c.startswith("sudo -n ") and "install" in c and c.endswith("fonts-dejavu-core") for c in machine.calls())


def test_without_root_or_sudo_it_names_the_packages_and_the_command(machine) -> None:
    machine.missing.write_text("apertium-mkd-eng\n")
    result = machine(uid=1000, sudo=False)
    assert result.returncode == 1
    assert "apertium-mkd-eng" in result.stderr
    assert "sudo apt-get install -y apertium-mkd-eng" in result.stderr
    assert machine.calls() == []


def test_check_reports_what_is_missing_without_installing(machine) -> None:
    machine.missing.write_text("dict-freedict-srp-eng\n")
    result = machine(args=("--check",))
    assert result.returncode == 1
    assert "dict-freedict-srp-eng" in result.stdout
    assert machine.calls() == []


def test_the_makefile_runs_it_before_the_readme_commands() -> None:
    makefile = (SCRIPT.parents[1] / "Makefile").read_text()
    for target in ("demo", "test"):
        line = next(ln for ln in makefile.splitlines() if ln.startswith(f"{target}:"))
        assert "system-deps" in line.split("##")[0], line
    assert os.access(SCRIPT, os.X_OK)


def test_a_removed_package_that_left_its_config_files_counts_as_missing(machine) -> None:
    machine.missing.write_text("fonts-dejavu-core\n")
    machine.removed.write_text("fonts-dejavu-core\n")
    result = machine(args=("--check",))
    assert result.returncode == 1 and "fonts-dejavu-core" in result.stdout
