"""`rasa/rasa.sh env` finds a Python for Rasa that really runs (issue 16, item 10). Where
pyenv has a 3.10 installed but not selected, its `python3.10` shim is on PATH and fails;
the script then takes the 3.10 in pyenv's versions folder. Run in a sandbox PATH with
stand-in interpreters, so no Rasa is installed (tests/rasa has the real one)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "rasa" / "rasa.sh"
TOOLS = ("env", "bash", "sh", "dirname", "ls", "sort", "tail", "rm", "mkdir", "chmod", "cat")
# pyenv's shim when the version it would run is not selected
SHIM = """#!/bin/sh
echo "pyenv: python3.10: command not found" >&2
exit 127
"""
# A Python 3.10 as far as the script can tell: it answers the version check, and makes a
# "venv" whose pip installs nothing, noting which interpreter made it.
PYTHON = """#!/bin/sh
if [ "$1" = "-c" ]; then exit 0; fi
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
    mkdir -p "$3/bin"
    printf '#!/bin/sh\\nexit 0\\n' > "$3/bin/pip"
    chmod +x "$3/bin/pip"
    echo "$0" > "$3/made-by"
    exit 0
fi
exit 1
"""


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    """A bin folder holding only the tools the script uses: no Python of the machine's."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in TOOLS:
        found = shutil.which(tool)
        assert found, f"{tool} is needed to run rasa.sh"
        (bin_dir / tool).symlink_to(found)
    return bin_dir


def pyenv(tmp_path: Path, bin_dir: Path, *versions: str) -> Path:
    """A pyenv whose root holds these versions, each with a working python."""
    root = tmp_path / "pyenv"
    for version in versions:
        executable(root / "versions" / version / "bin" / "python", PYTHON)
    executable(bin_dir / "pyenv", f'#!/bin/sh\n[ "$1" = root ] && echo "{root}"\n')
    return root


def make_env(tmp_path: Path, bin_dir: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path / "home"),
           "RASA_VENV": str(tmp_path / "venv"), **extra}
    return subprocess.run([str(SCRIPT), "env"], env=env, capture_output=True, text=True,
                          timeout=60)


def made_by(tmp_path: Path) -> str:
    return (tmp_path / "venv" / "made-by").read_text().strip()


def test_a_pyenv_shim_that_fails_is_passed_over_for_pyenvs_own_3_10(tmp_path, sandbox):
    executable(sandbox / "python3.10", SHIM)
    root = pyenv(tmp_path, sandbox, "3.10.9", "3.10.13", "3.9.18")
    result = make_env(tmp_path, sandbox)
    assert result.returncode == 0, result.stderr
    chosen = str(root / "versions" / "3.10.13" / "bin" / "python")
    assert f"with {chosen}" in result.stdout and made_by(tmp_path) == chosen


def test_a_python3_10_on_the_path_that_runs_is_taken_first(tmp_path, sandbox):
    mine = executable(sandbox / "python3.10", PYTHON)
    pyenv(tmp_path, sandbox, "3.10.13")
    result = make_env(tmp_path, sandbox)
    assert result.returncode == 0, result.stderr
    assert made_by(tmp_path) == str(mine)


def test_pyenvs_folder_is_found_without_pyenv_on_the_path(tmp_path, sandbox):
    executable(sandbox / "python3.10", SHIM)
    root = tmp_path / "home" / ".pyenv"
    python = executable(root / "versions" / "3.10.4" / "bin" / "python", PYTHON)
    result = make_env(tmp_path, sandbox)
    assert result.returncode == 0, result.stderr
    assert made_by(tmp_path) == str(python)


def test_no_python_that_runs_says_so_and_exits_3(tmp_path, sandbox):
    executable(sandbox / "python3.10", SHIM)
    root = tmp_path / "pyenv"
    executable(root / "versions" / "3.10.13" / "bin" / "python", SHIM)  # broken there too
    executable(sandbox / "pyenv", f'#!/bin/sh\n[ "$1" = root ] && echo "{root}"\n')
    result = make_env(tmp_path, sandbox)
    assert result.returncode == 3
    assert "No Python 3.10 for Rasa" in result.stderr
    assert not (tmp_path / "venv").exists()


def test_a_rasa_python_that_does_not_run_is_named(tmp_path, sandbox):
    pyenv(tmp_path, sandbox, "3.10.13")
    result = make_env(tmp_path, sandbox, RASA_PYTHON=str(tmp_path / "nowhere" / "python"))
    assert result.returncode == 3
    assert f"RASA_PYTHON={tmp_path / 'nowhere' / 'python'} does not run" in result.stderr
