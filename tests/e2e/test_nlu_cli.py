"""`chatcart nlu ...`, `chatcart chat` and POST /nlu/parse, as operators and clients use them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from bot.nlu.embedded import DATA
from bot.server import create_app
from tests.conftest import SECRET

CHATCART = [sys.executable, "-m", "bot"]


def run(args: list[str], tmp_path: Path, database_url: str, stdin: str | None = None):
    env = {"PATH": "/usr/bin:/bin", "CHATCART_DATA_DIR": str(tmp_path / "data"),
           "CHATCART_SECRET_KEY": SECRET, "DATABASE_URL": database_url}
    return subprocess.run(CHATCART + args, env=env, cwd=tmp_path, input=stdin, text=True,
                          capture_output=True, timeout=120)


def test_train_evaluate_and_parse_from_the_command_line(tmp_path, database_url):
    trained = run(["nlu", "train"], tmp_path, database_url)
    assert trained.returncode == 0, trained.stderr
    assert "Trained on" in trained.stdout and (tmp_path / "data" / "nlu-model.joblib").exists()
    table = run(["nlu", "evaluate", str(DATA / "test.yml")], tmp_path, database_url)
    assert table.returncode == 0, table.stderr
    assert "precision" in table.stdout and "add_to_cart" in table.stdout
    nowhere = f"sqlite+aiosqlite:///{tmp_path / 'absent.db'}"
    parsed = run(["nlu", "parse", "where is my order cc-7kx3mq"], tmp_path, nowhere)
    assert not (tmp_path / "absent.db").exists()
    body = json.loads(parsed.stdout)
    assert body["intent"]["name"] == "order_status"
    assert {"entity": "order_id", "value": "CC-7KX3MQ"}.items() <= body["entities"][0].items()
    broken = tmp_path / "broken.yml"
    broken.write_text("nlu:\n- intent: greet\n  examples: |\n    hello without a dash\n")
    refused = run(["nlu", "evaluate", str(broken)], tmp_path, database_url)
    assert refused.returncode == 1 and "expected '- example'" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_the_terminal_chat_browses_and_fills_a_cart(tmp_path, database_url):
    assert run(["demo", "--no-serve"], tmp_path, database_url).returncode == 0
    session = run(["chat"], tmp_path, database_url,
                  stdin="show me the teapots\nadd the glass teapot\nquit\n")
    assert session.returncode == 0, session.stderr
    assert "Welcome" in session.stdout
    assert "Glass teapot" in session.stdout
    assert "Added 1 × Glass teapot." in session.stdout and "Total: €29.00" in session.stdout


async def test_nlu_parse_answers_in_rasas_shape(settings, shop, tmp_path):
    from bot.nlu.embedded import build_embedded

    nlu = build_embedded(tmp_path / "model.joblib")
    app = create_app(settings, shop, nlu=nlu, sweep_seconds=3600)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/nlu/parse", json={"text": "add 2 mugs under 20"})
            body = response.json()
            assert set(body) == {"text", "intent", "intent_ranking", "entities"}
            assert body["intent"]["name"] == "add_to_cart"
            assert len(body["intent_ranking"]) == 10
            bad = await client.post("/nlu/parse", json={"txt": 1})
            assert bad.status_code == 400


def test_export_for_rasa_and_asking_for_rasa_without_one(tmp_path, database_url):
    exported = run(["nlu", "export-rasa", str(tmp_path / "rasa" / "data")], tmp_path,
                   database_url)
    assert exported.returncode == 0, exported.stderr
    assert "examples of 22 intents" in exported.stdout
    assert (tmp_path / "rasa" / "data" / "nlu.yml").read_text().count("- intent: ") == 22
    unset = run(["nlu", "evaluate", str(DATA / "test.yml"), "--compare"], tmp_path,
                database_url)
    assert unset.returncode == 1 and "Set RASA_URL" in unset.stderr
    assert "Traceback" not in unset.stderr
