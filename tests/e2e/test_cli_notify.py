"""`chatcart notify test --to EMAIL`: a real mail through SMTP_URL, or what went wrong in
plain words (and exit status 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.smtp import smtp_server

ROOT = Path(__file__).resolve().parents[2]


def notify_test(to: str, tmp_path: Path, smtp_url: str | None
                ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(PYTHONPATH=str(ROOT), CHATCART_DATA_DIR=str(tmp_path / "data"),
               CHATCART_SECRET_KEY="x" * 43, PUBLIC_BASE_URL="https://shop.example")
    if smtp_url:
        env["SMTP_URL"] = smtp_url
    return subprocess.run([sys.executable, "-m", "bot", "notify", "test", "--to", to],
                          env=env, cwd=tmp_path, text=True, capture_output=True, timeout=60)


@pytest.fixture
def inbox():
    with smtp_server() as server:
        yield server


def test_a_test_mail_arrives_with_text_and_html(inbox, tmp_path):
    result = notify_test("Ann@Example.com", tmp_path, inbox.url)
    assert result.returncode == 0, result.stderr
    assert "Sent a test mail to ann@example.com" in result.stdout
    (mail,) = inbox.received
    assert mail.recipients == ["ann@example.com"]
    assert mail.message["Subject"] == "A test message from shop.example"
    assert mail.message["Message-ID"].endswith("@shop.example>") and mail.message["Date"]
    assert "mail from the shop reaches you" in mail.part("plain")
    assert "<p>This is a test message from shop.example." in mail.part("html")


def test_a_refused_address_is_said_with_the_servers_reason(inbox, tmp_path):
    inbox.refuse.add("gone@example.com")
    result = notify_test("gone@example.com", tmp_path, inbox.url)
    assert result.returncode == 1 and inbox.received == []
    assert "refused the address gone@example.com (550 5.1.1 No such mailbox)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_server_that_is_not_there_is_said_plainly(tmp_path):
    with smtp_server() as gone:
        url, port = gone.url, gone.port
    result = notify_test("ann@example.com", tmp_path, url)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"Could not reach a mail server at 127.0.0.1:{port}" in result.stderr


@pytest.mark.parametrize(("to", "smtp", "says"), [
    ("ann@example.com", None, "SMTP_URL is not set"),
    ("ann@@example.com", "smtp://127.0.0.1:25", "does not look right"),
    ("+4915112345678", "smtp://127.0.0.1:25", "SMS is not set up yet"),
])
def test_what_cannot_be_tested_is_said_plainly(to, smtp, says, tmp_path):
    result = notify_test(to, tmp_path, smtp)
    assert result.returncode == 1 and says in result.stderr and "Traceback" not in result.stderr
