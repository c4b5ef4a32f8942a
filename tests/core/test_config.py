import pytest

from core.config import DEFAULT_DATABASE_URL, ConfigError, load_settings


def test_defaults_give_an_embedded_sqlite_shop(tmp_path):
    settings = load_settings(CHATCART_DATA_DIR=str(tmp_path))
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.is_sqlite
    assert settings.redis_url is None
    assert settings.base_url == "http://127.0.0.1:8000"


def test_plain_postgres_urls_are_given_the_async_driver():
    settings = load_settings(DATABASE_URL="postgres://shop@db/chatcart")
    assert settings.database_url == "postgresql+asyncpg://shop@db/chatcart"


def test_every_bad_variable_is_named_with_what_is_wrong(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://x@y/z")
    monkeypatch.setenv("REDIS_URL", "http://nope")
    monkeypatch.setenv("CHATCART_SECRET_KEY", "short")
    monkeypatch.setenv("PUBLIC_BASE_URL", "not a url")
    monkeypatch.setenv("SHOP_CURRENCY", "EURO")
    monkeypatch.setenv("SHOP_NAME", "x" * 81)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    for variable in ("DATABASE_URL", "REDIS_URL", "CHATCART_SECRET_KEY", "PUBLIC_BASE_URL",
                     "SHOP_CURRENCY", "SHOP_NAME"):
        assert f"{variable}:" in message
    assert "unsupported database 'mysql'" in message
    assert "at least 32 characters" in message


def test_the_shop_name_is_tidied_and_an_empty_one_is_the_default():
    assert load_settings(SHOP_NAME="  Mugs \n & Co ").shop_name == "Mugs & Co"
    assert load_settings(SHOP_NAME="").shop_name == "Chatcart"


def test_secret_values_are_not_echoed_in_config_errors(monkeypatch):
    monkeypatch.setenv("CHATCART_SECRET_KEY", "hunter2-too-short")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "hunter2" not in str(caught.value)


def test_the_secret_key_is_generated_once_and_kept(tmp_path):
    first = load_settings(CHATCART_DATA_DIR=str(tmp_path)).secret_key
    second = load_settings(CHATCART_DATA_DIR=str(tmp_path)).secret_key
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_a_dotenv_file_is_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("SHOP_CURRENCY=usd\nRESERVATION_MINUTES=15\n")
    settings = load_settings()
    assert settings.shop_currency == "USD"
    assert settings.reservation_minutes == 15


def test_processes_starting_together_agree_on_one_generated_key(tmp_path):
    """An app and a worker sharing a data volume, started at the same moment."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(4) as pool:
        keys = pool.map(_generated_key, [str(tmp_path)] * 8)
    assert len(set(keys)) == 1 and keys[0] == (tmp_path / "secret_key").read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"], "no candidates left over"


def _generated_key(folder: str) -> str:
    return load_settings(CHATCART_DATA_DIR=folder).secret_key


SLACK = {"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99aa"}


def test_the_slack_support_and_alerts_channels_are_channel_ids(tmp_path):
    settings = load_settings(CHATCART_DATA_DIR=str(tmp_path), SLACK_SUPPORT_CHANNEL=" C0SUPPORT1 ",
                             SLACK_ALERTS_CHANNEL="G0ALERTS01", **SLACK)
    assert settings.slack_support_channel == "C0SUPPORT1"
    assert settings.slack_alerts_channel == "G0ALERTS01"
    unset = load_settings(CHATCART_DATA_DIR=str(tmp_path), SLACK_SUPPORT_CHANNEL="", **SLACK)
    assert unset.slack_support_channel is None and unset.slack_alerts_channel is None


@pytest.mark.parametrize("value", ["#support", "support", "D0DIRECT1", "c0lower", "C1"])
def test_a_slack_channel_name_instead_of_an_id_is_refused_clearly(tmp_path, value):
    with pytest.raises(ConfigError) as caught:
        load_settings(CHATCART_DATA_DIR=str(tmp_path), SLACK_SUPPORT_CHANNEL=value, **SLACK)
    assert "SLACK_SUPPORT_CHANNEL:" in str(caught.value)
    assert "channel id such as C0123ABCD" in str(caught.value)


def test_a_slack_channel_without_the_slack_app_is_refused(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_settings(CHATCART_DATA_DIR=str(tmp_path), SLACK_ALERTS_CHANNEL="C0ALERTS01")
    assert "SLACK_ALERTS_CHANNEL" in str(caught.value) and "SLACK_BOT_TOKEN" in str(caught.value)


TWILIO = {"TWILIO_ACCOUNT_SID": "AC" + "0a" * 16, "TWILIO_AUTH_TOKEN": "f" * 32}


@pytest.mark.parametrize(("sender", "kept"), [
    ("+1 (415) 555-0100", "+14155550100"),
    ("MG" + "ab" * 16, "MG" + "ab" * 16),
])
def test_twilio_sends_from_a_number_in_e164_or_a_messaging_service(tmp_path, sender, kept):
    settings = load_settings(CHATCART_DATA_DIR=str(tmp_path), TWILIO_FROM=sender, **TWILIO)
    assert settings.sms_enabled and settings.twilio_from == kept
    assert "f" * 32 not in repr(settings)


@pytest.mark.parametrize(("env", "says"), [
    ({**TWILIO, "TWILIO_FROM": "Chatcart"}, "TWILIO_FROM: must be your Twilio number"),
    ({**TWILIO, "TWILIO_FROM": "4155550100"}, "TWILIO_FROM: must be your Twilio number"),
    ({**TWILIO, "TWILIO_FROM": "MG123"}, "TWILIO_FROM: must be your Twilio number"),
    ({**TWILIO, "TWILIO_FROM": "+14155550100", "TWILIO_ACCOUNT_SID": "SK" + "0" * 32},
     "TWILIO_ACCOUNT_SID: must be the Account SID"),
    ({"TWILIO_ACCOUNT_SID": TWILIO["TWILIO_ACCOUNT_SID"]},
     "TWILIO_AUTH_TOKEN: SMS needs TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM "
     "together (missing: TWILIO_AUTH_TOKEN, TWILIO_FROM)"),
    ({**TWILIO, "TWILIO_FROM": "+14155550100", "TWILIO_API_BASE": "api.twilio.com"},
     "TWILIO_API_BASE: expected an http:// or https:// URL"),
])
def test_bad_twilio_settings_are_refused_at_start_with_the_variable_named(tmp_path, env, says):
    with pytest.raises(ConfigError) as caught:
        load_settings(CHATCART_DATA_DIR=str(tmp_path), **env)
    assert says in str(caught.value) and "f" * 32 not in str(caught.value)


def test_no_twilio_settings_mean_no_sms(tmp_path):
    settings = load_settings(CHATCART_DATA_DIR=str(tmp_path), TWILIO_ACCOUNT_SID="",
                             TWILIO_AUTH_TOKEN="", TWILIO_FROM="")
    assert not settings.sms_enabled
