"""`chatcart notify test --to EMAIL|PHONE`: a real mail through SMTP_URL or an SMS through
Twilio (a double on loopback), or what went wrong in plain words (and exit status 1)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.servers import free_port
from tests.support.smtp import smtp_server
from tests.support.twilio import ACCOUNT_SID, FROM, twilio_server

ROOT = Path(__file__).resolve().parents[2]


def notify_test(to: str, tmp_path: Path, smtp_url: str | None,
                **more: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(PYTHONPATH=str(ROOT), CHATCART_DATA_DIR=str(tmp_path / "data"),
               CHATCART_SECRET_KEY="x" * 43, PUBLIC_BASE_URL="https://shop.example")
    if smtp_url:
        env["SMTP_URL"] = smtp_url
    env.update(more)
    return subprocess.run([sys.executable, "-m", "bot", "notify", "test", "--to", to],
                          env=env, cwd=tmp_path, text=True, capture_output=True, timeout=60)



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
    ("+4915112345678", "smtp://127.0.0.1:25", "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                                              "TWILIO_FROM are not set"),
    ("4915112345678", None, "neither an email address nor a phone number"),
    ("+1 555", None, "neither an email address nor a phone number"),
])
def test_what_cannot_be_tested_is_said_plainly(to, smtp, says, tmp_path):
    result = notify_test(to, tmp_path, smtp)
    assert result.returncode == 1 and says in result.stderr and "Traceback" not in result.stderr


@pytest.fixture
def twilio():
    with twilio_server() as server:
        yield server


def test_a_test_sms_reaches_twilio_with_the_accounts_credentials(twilio, tmp_path):
    result = notify_test("+1 (415) 555-0123", tmp_path, None, **twilio.env())
    assert result.returncode == 0, result.stderr
    assert "Sent a test SMS to +14155550123 from +14155550100 (Twilio message SM" in \
        result.stdout
    (sms,) = twilio.received
    assert (sms.to, sms.sender, sms.account) == ("+14155550123", FROM, ACCOUNT_SID)
    assert sms.auth == (twilio.sid, twilio.token)
    assert sms.body == "This is a test message from shop.example."


def test_a_messaging_service_sends_in_place_of_a_number(twilio, tmp_path):
    service = "MG" + "ab" * 16
    result = notify_test("+4915112345678", tmp_path, None,
                         **{**twilio.env(), "TWILIO_FROM": service})
    assert result.returncode == 0, result.stderr
    (sms,) = twilio.received
    assert (sms.sender, sms.service) == (None, service)


@pytest.mark.parametrize(("trouble", "says"), [
    ("invalid", "Twilio refused to send to +4915112345678: 400 The 'To' number "
                "+49 ••• ••• 78 is not a valid phone number. (error 21211)"),
    ("unsubscribed", "answered STOP"),
    ("busy", "said too many requests (429 Too Many Requests (error 20429))"),
    ("broken", "failed on its side (503 Service Unavailable (error 20500))"),
    ("token", "refused the credentials (401 Authenticate (error 20003)). Check "
              "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
])
def test_what_twilio_says_is_said_plainly(trouble, says, twilio, tmp_path):
    env = twilio.env()
    if trouble in ("invalid", "unsubscribed"):
        getattr(twilio, trouble).add("+4915112345678")
    elif trouble in ("busy", "broken"):
        setattr(twilio, trouble, 1)
    else:
        env["TWILIO_AUTH_TOKEN"] = "0" * 32
    result = notify_test("+4915112345678", tmp_path, None, **env)
    assert result.returncode == 1 and says in result.stderr, result.stderr
    assert twilio.received == [] and twilio.requests == 1
    assert "Traceback" not in result.stderr and env["TWILIO_AUTH_TOKEN"] not in \
        result.stdout + result.stderr


def test_no_twilio_there_is_said_plainly(tmp_path):
    base = f"http://127.0.0.1:{free_port()}"
    result = notify_test("+4915112345678", tmp_path, None, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                         TWILIO_AUTH_TOKEN="f" * 32, TWILIO_FROM=FROM, TWILIO_API_BASE=base)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"Could not reach Twilio at {base}" in result.stderr


def test_a_bad_twilio_from_stops_the_command_with_the_variable_named(tmp_path):
    result = notify_test("+4915112345678", tmp_path, None, TWILIO_ACCOUNT_SID=ACCOUNT_SID,
                         TWILIO_AUTH_TOKEN="f" * 32, TWILIO_FROM="Chatcart")
    assert result.returncode == 2 and "TWILIO_FROM: must be your Twilio number" in \
        result.stderr
