"""`chatcart nlu evaluate --compare`: the embedded NLU and Rasa on the same held-back split,
side by side, through the command an operator runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from bot.nlu.embedded import DATA
from bot.nlu.rasa import RasaNlu
from tests.conftest import SECRET
from tests.support.rasa import ROOT

OUTPUT = ROOT / "test-output" / "rasa-evaluation.txt"


def test_both_backends_are_scored_side_by_side_on_the_held_back_split(
        rasa_server, tmp_path: Path, capsys):
    env = {"PATH": "/usr/bin:/bin", "CHATCART_DATA_DIR": str(tmp_path / "data"),
           "CHATCART_SECRET_KEY": SECRET, "RASA_URL": rasa_server.url,
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"}
    done = subprocess.run([sys.executable, "-m", "bot", "nlu", "evaluate",
                           str(DATA / "test.yml"), "--compare"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(done.stdout)
    with capsys.disabled():
        print(f"\n{done.stdout}\n(also in {OUTPUT})")
    accuracy = re.search(r"^accuracy\s+([\d.]+) \|\s+([\d.]+)\s+(\d+)$", done.stdout, re.M)
    assert accuracy, done.stdout
    embedded, rasa, examples = float(accuracy[1]), float(accuracy[2]), int(accuracy[3])
    assert examples > 100
    assert rasa > 0.8 and embedded > 0.8  # 22 intents: chance is under 0.05
    assert f"rasa ({rasa_server.url})" in done.stdout


def test_evaluating_through_a_rasa_that_is_not_there_fails_and_says_so(tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin", "CHATCART_DATA_DIR": str(tmp_path / "data"),
           "CHATCART_SECRET_KEY": SECRET, "RASA_URL": "http://127.0.0.1:9",
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"}
    done = subprocess.run([sys.executable, "-m", "bot", "nlu", "evaluate",
                           str(DATA / "test.yml"), "--rasa"],
                          env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    assert "did not answer" in done.stderr and "Traceback" not in done.stderr


async def test_rasa_classifies_and_chatcart_reads_the_catalog_and_numbers(rasa_server, trained):
    async with httpx.AsyncClient() as client:
        direct = await client.post(f"{rasa_server.url}/model/parse",
                                   json={"text": "add two glass teapots"})
    assert direct.json()["intent"]["name"] == "add_to_cart"
    understood = await trained.understand("add two glass teapots")
    assert understood.intent == "add_to_cart"
    assert understood.ranking[0][0] == "add_to_cart" and len(understood.ranking) > 1
    assert understood.first("quantity") == "2"  # Chatcart's number words, not Rasa's "two"
    assert isinstance(trained, RasaNlu) and trained.answered == 1
