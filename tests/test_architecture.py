"""The import direction of DESIGN.md, checked by import-linter's contracts in pyproject."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_core_imports_neither_bot_nor_console_and_they_stay_apart():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "import-linter is part of the dev extras"
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_platform_sdks_are_imported_only_under_bot_channels():
    offenders = []
    for path in ROOT.glob("**/*.py"):
        relative = path.relative_to(ROOT)
        if relative.parts[0] not in ("core", "bot", "admin_web"):
            continue
        if relative.parts[:2] == ("bot", "channels"):
            continue
        text = path.read_text()
        for sdk in ("aiogram", "slack_bolt", "slack_sdk"):
            if f"import {sdk}" in text or f"from {sdk}" in text:
                offenders.append(f"{relative}: {sdk}")
    assert offenders == []
