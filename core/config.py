"""Settings read once from the environment (and `.env`), validated with clear messages."""

from __future__ import annotations

import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import AnyHttpUrl, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.keyfile import kept

if TYPE_CHECKING:
    from core.support.hours import Hours

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./chatcart.db"
TELEGRAM_TOKEN = re.compile(r"^\d{3,20}:[A-Za-z0-9_-]{30,64}$")
TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{16,256}$")
SLACK_SECRET = re.compile(r"^[A-Za-z0-9]{16,128}$")
# A public (C...) or private (G...) channel's id, as Slack shows it under the channel's
# name > About: not its #name, which can be renamed.
SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{6,20}$")
TWILIO_ACCOUNT = re.compile(r"^AC[0-9a-fA-F]{32}$")
# A Messaging Service's SID: Twilio then picks the sender from the service's pool.
TWILIO_SERVICE = re.compile(r"^MG[0-9a-fA-F]{32}$")


class ConfigError(Exception):
    """Bad configuration: one line per bad variable, fit to print and exit."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    redis_url: str | None = Field(None, validation_alias="REDIS_URL")
    secret_key_value: str | None = Field(None, validation_alias="CHATCART_SECRET_KEY")
    data_dir: Path = Field(Path("./data"), validation_alias="CHATCART_DATA_DIR")
    public_base_url: AnyHttpUrl = Field(
        AnyHttpUrl("http://127.0.0.1:8000"), validation_alias="PUBLIC_BASE_URL"
    )
    shop_currency: str = Field("EUR", validation_alias="SHOP_CURRENCY")
    # The shop's name as shoppers read it (the help centre's title).
    shop_name: str = Field("Chatcart", max_length=80, validation_alias="SHOP_NAME")
    reservation_minutes: int = Field(30, ge=1, le=7 * 24 * 60,
                                     validation_alias="RESERVATION_MINUTES")
    # Days after delivery a shopper may still ask to return items (core/returns).
    return_window_days: int = Field(30, ge=1, le=3650, validation_alias="RETURN_WINDOW_DAYS")
    # Messages one chat may send in 10 seconds before being asked to slow down (0: no limit).
    chat_flood_limit: int = Field(20, ge=0, le=10_000, validation_alias="CHAT_FLOOD_LIMIT")
    # Per client address on the web chat (why these: bot/channels/webchat_limits.py); 0: none.
    webchat_new_chats_per_minute: int = Field(
        30, ge=0, le=1_000_000, validation_alias="WEBCHAT_NEW_CHATS_PER_MINUTE")
    webchat_messages_per_minute: int = Field(
        600, ge=0, le=1_000_000, validation_alias="WEBCHAT_MESSAGES_PER_MINUTE")
    webchat_polls_per_client: int = Field(50, ge=0, le=1_000_000,
                                          validation_alias="WEBCHAT_POLLS_PER_CLIENT")
    webchat_polls_per_process: int = Field(1000, ge=0, le=1_000_000,
                                           validation_alias="WEBCHAT_POLLS_PER_PROCESS")
    # Console live streams (Server-Sent Events) open at once; 0: no cap.
    console_streams_per_staff: int = Field(10, ge=0, le=10_000,
                                           validation_alias="CONSOLE_STREAMS_PER_STAFF")
    console_streams_per_process: int = Field(200, ge=0, le=1_000_000,
                                             validation_alias="CONSOLE_STREAMS_PER_PROCESS")
    log_level: str = Field("INFO", validation_alias="LOG_LEVEL")
    tax_rate: str = Field("0", validation_alias="TAX_RATE_PERCENT")
    payment_capture: str = Field("immediate", validation_alias="PAYMENT_CAPTURE")
    # Peers whose X-Forwarded-For / -Proto `chatcart serve` believes (uvicorn's own variable):
    # addresses or networks, comma-separated, or * for any. Sign-in slowing down counts
    # per client address, so behind a proxy this must name the proxy.
    forwarded_allow_ips: str = Field("127.0.0.1,::1", validation_alias="FORWARDED_ALLOW_IPS")

    telegram_bot_token: str | None = Field(None, validation_alias="TELEGRAM_BOT_TOKEN")
    telegram_webhook_secret: str | None = Field(None, validation_alias="TELEGRAM_WEBHOOK_SECRET")
    telegram_api_base: str | None = Field(None, validation_alias="TELEGRAM_API_BASE")
    slack_bot_token: str | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: str | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_base: str | None = Field(None, validation_alias="SLACK_API_BASE")
    slack_app_token: str | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    # Where handoffs are posted for agents to answer in each post's thread (unset: console
    # only), and where staff alerts go (a shopper left waiting).
    slack_support_channel: str | None = Field(None, validation_alias="SLACK_SUPPORT_CHANNEL")
    slack_alerts_channel: str | None = Field(None, validation_alias="SLACK_ALERTS_CHANNEL")
    stripe_secret_key: str | None = Field(None, validation_alias="STRIPE_SECRET_KEY")
    stripe_webhook_secret: str | None = Field(None, validation_alias="STRIPE_WEBHOOK_SECRET")
    stripe_api_base: str | None = Field(None, validation_alias="STRIPE_API_BASE")
    paypal_client_id: str | None = Field(None, validation_alias="PAYPAL_CLIENT_ID")
    paypal_client_secret: str | None = Field(None, validation_alias="PAYPAL_CLIENT_SECRET")
    paypal_api_base: str | None = Field(None, validation_alias="PAYPAL_API_BASE")
    paypal_webhook_id: str | None = Field(None, validation_alias="PAYPAL_WEBHOOK_ID")
    rasa_url: str | None = Field(None, validation_alias="RASA_URL")
    smtp_url: str | None = Field(None, validation_alias="SMTP_URL")
    # SMS through Twilio (bot/notice_sms.py); all three unset: no SMS. The base URL is for
    # tests (a double on loopback).
    twilio_account_sid: str | None = Field(None, validation_alias="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = Field(None, validation_alias="TWILIO_AUTH_TOKEN",
                                          repr=False)
    twilio_from: str | None = Field(None, validation_alias="TWILIO_FROM")
    twilio_api_base: str | None = Field(None, validation_alias="TWILIO_API_BASE")
    # When people answer the chat (core/support/hours.py); unset: at any time.
    support_hours: str | None = Field(None, validation_alias="SUPPORT_HOURS")
    # Admins are emailed about a request nobody took for this long (0: never).
    support_escalate_minutes: int = Field(10, ge=0, le=7 * 24 * 60,
                                          validation_alias="SUPPORT_ESCALATE_MINUTES")
    # A cart left untouched this long is reminded of once, to shoppers who agreed (0: never).
    cart_reminder_hours: int = Field(24, ge=0, le=90 * 24, validation_alias="CART_REMINDER_HOURS")
    # Staff alerts (low stock, shoppers waiting) collect this long, then go as one summary.
    staff_alerts_batch_seconds: int = Field(60, ge=0, le=24 * 3600,
                                            validation_alias="STAFF_ALERTS_BATCH_SECONDS")
    # Web push (core/notifications/push.py): who the push services may contact about this
    # shop (mailto: or https:); unset: the mail sender, else the public address.
    vapid_subject: str | None = Field(None, validation_alias="VAPID_SUBJECT")
    # Tests only: subscriptions may name http:// and loopback or private hosts (a local
    # push-service double). Off, a subscription may only point at a public https host.
    push_allow_local: bool = Field(False, validation_alias="PUSH_ALLOW_LOCAL_ENDPOINTS")

    @field_validator("database_url")
    @classmethod
    def _async_database(cls, value: str) -> str:
        scheme, sep, rest = value.partition("://")
        if not sep:
            raise ValueError("expected a URL like sqlite+aiosqlite:///./chatcart.db")
        if scheme in {"postgres", "postgresql", "postgresql+asyncpg"}:
            return f"postgresql+asyncpg://{rest}"
        if scheme in {"sqlite", "sqlite+aiosqlite"}:
            return f"sqlite+aiosqlite://{rest}"
        raise ValueError(
            f"unsupported database {scheme!r}: use sqlite+aiosqlite:///FILE "
            "or postgresql+asyncpg://USER@HOST/DB"
        )

    @field_validator("secret_key_value", "telegram_bot_token", "telegram_webhook_secret",
                     "slack_bot_token", "slack_signing_secret", "slack_app_token",
                     "stripe_secret_key", "stripe_webhook_secret", "paypal_client_id",
                     "paypal_client_secret", "paypal_webhook_id", "smtp_url", "redis_url",
                     "slack_support_channel", "slack_alerts_channel",
                     "support_hours", "twilio_account_sid", "twilio_auth_token",
                     "twilio_from", "twilio_api_base", "vapid_subject",
                     mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty key or optional service means "not set" (docker-compose passes
        `${VAR:-}`); required values such as DATABASE_URL stay strict."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://HOST:PORT/DB")
        return value or None

    @field_validator("secret_key_value")
    @classmethod
    def _long_secret(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("must be at least 32 characters (try: openssl rand -hex 32)")
        return value

    @field_validator("shop_currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        from core.money import currency_exponent

        code = value.strip().upper()
        currency_exponent(code)  # raises ValueError for an unknown code
        return code

    @field_validator("shop_name")
    @classmethod
    def _shop_name(cls, value: str) -> str:
        return " ".join(value.split()) or "Chatcart"  # unset (empty) reads as the default

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("tax_rate")
    @classmethod
    def _tax_rate(cls, value: str) -> str:
        if not re.fullmatch(r"\d{1,2}(\.\d{1,2})?", value.strip()):
            raise ValueError("expected a percentage like 20 or 8.25 (0 for none)")
        return value.strip()

    @field_validator("payment_capture")
    @classmethod
    def _capture(cls, value: str) -> str:
        mode = value.strip().lower().replace("-", "_")
        if mode not in ("immediate", "at_shipment"):
            raise ValueError("expected immediate (charge at checkout) or at_shipment "
                             "(authorize, capture when the order ships)")
        return mode

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _trusted_proxies(cls, value: str) -> str:
        import ipaddress

        items = [item.strip() for item in value.split(",") if item.strip()]
        for item in items:
            if item == "*":
                continue
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network; expected e.g. "
                                 "10.0.0.5,192.168.0.0/16 (or * to trust any peer)") from None
        return ",".join(items)

    @field_validator("support_hours")
    @classmethod
    def _support_hours(cls, value: str | None) -> str | None:
        if value:
            from core.support.hours import parse

            parse(value)  # its ValueError says what is wrong and shows the format
        return value

    @cached_property
    def hours(self) -> Hours | None:
        """SUPPORT_HOURS parsed (checked at start); None: people answer at any time."""
        from core.support.hours import parse

        return parse(self.support_hours) if self.support_hours else None

    @property
    def tax_basis_points(self) -> int:
        whole, _, fraction = self.tax_rate.partition(".")
        return int(whole) * 100 + int((fraction + "00")[:2])

    @field_validator("telegram_bot_token")
    @classmethod
    def _telegram_token(cls, value: str | None) -> str | None:
        if value and not TELEGRAM_TOKEN.match(value.strip()):
            raise ValueError("does not look like a bot token from @BotFather "
                             "(digits, a colon, then 30+ letters, digits, _ or -)")
        return value.strip() if value else None

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: str | None) -> str | None:
        if value and not TELEGRAM_SECRET.match(value):
            raise ValueError("must be 16-256 letters, digits, _ or - (Telegram's rule)")
        return value or None

    @field_validator("slack_bot_token")
    @classmethod
    def _slack_token(cls, value: str | None) -> str | None:
        if value and not value.strip().startswith("xoxb-"):
            raise ValueError("must be the Bot User OAuth Token, starting with xoxb-")
        return value.strip() if value else None

    @field_validator("slack_signing_secret")
    @classmethod
    def _slack_secret(cls, value: str | None) -> str | None:
        if value and not SLACK_SECRET.match(value.strip()):
            raise ValueError("must be the app's Signing Secret (letters and digits, "
                             "from Basic Information in the Slack app settings)")
        return value.strip() if value else None

    @field_validator("slack_app_token")
    @classmethod
    def _slack_app_token(cls, value: str | None) -> str | None:
        if value and not value.strip().startswith("xapp-"):
            raise ValueError("must be an app-level token for Socket Mode, starting with xapp-")
        return value.strip() if value else None

    @field_validator("slack_support_channel", "slack_alerts_channel")
    @classmethod
    def _slack_channel(cls, value: str | None) -> str | None:
        if value and not SLACK_CHANNEL.match(value.strip()):
            raise ValueError("must be a Slack channel id such as C0123ABCD (open the channel, "
                             "then its name > About; not the #name)")
        return value.strip() if value else None

    @field_validator("twilio_account_sid")
    @classmethod
    def _twilio_account(cls, value: str | None) -> str | None:
        if value and not TWILIO_ACCOUNT.match(value.strip()):
            raise ValueError("must be the Account SID from the Twilio console: AC followed "
                             "by 32 hexadecimal digits")
        return value.strip() if value else None

    @field_validator("twilio_from")
    @classmethod
    def _twilio_from(cls, value: str | None) -> str | None:
        """A number of the account in E.164, or a Messaging Service SID. Alphanumeric
        sender ids are left out: shoppers could not answer STOP to them."""
        if not value:
            return None
        if TWILIO_SERVICE.match(value.strip()):
            return value.strip()
        from core.notifications.phones import e164

        number = e164(value.strip())
        if number is None or not value.strip().startswith("+"):
            raise ValueError("must be your Twilio number in international form, such as "
                             "+14155550100, or a Messaging Service SID (MG followed by 32 "
                             "hexadecimal digits)")
        return number

    @field_validator("telegram_api_base", "slack_api_base", "stripe_api_base",
                     "paypal_api_base", "rasa_url", "twilio_api_base")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("expected an http:// or https:// URL")
        return value or None

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str | None) -> str | None:
        if value and not re.match(r"^smtps?://[^\s/]+", value):
            raise ValueError("expected smtp://USER:PASSWORD@HOST:587 or smtps://...:465")
        return value or None

    @field_validator("vapid_subject")
    @classmethod
    def _vapid_subject(cls, value: str | None) -> str | None:
        if value and not re.match(r"^(mailto:[^\s@]+@[^\s@]+|https://[^\s/]+\S*)$", value.strip()):
            raise ValueError("expected mailto:someone@your-shop.example or https://your-shop.example")
        return value.strip() if value else None

    @field_validator("slack_api_base")
    @classmethod
    def _slack_api_root(cls, value: str | None) -> str | None:
        return value.rstrip("/") + "/" if value else None

    @model_validator(mode="after")
    def _slack_pair(self) -> Settings:
        if bool(self.slack_bot_token) != bool(self.slack_signing_secret):
            missing = "SLACK_SIGNING_SECRET" if self.slack_bot_token else "SLACK_BOT_TOKEN"
            raise ValueError(f"{missing}: Slack needs both SLACK_BOT_TOKEN and "
                             "SLACK_SIGNING_SECRET")
        for name, value in (("SLACK_SUPPORT_CHANNEL", self.slack_support_channel),
                            ("SLACK_ALERTS_CHANNEL", self.slack_alerts_channel)):
            if value and not self.slack_bot_token:
                raise ValueError(f"{name}: posting to Slack needs SLACK_BOT_TOKEN and "
                                 "SLACK_SIGNING_SECRET")
        if self.stripe_secret_key and not self.stripe_webhook_secret:
            raise ValueError("STRIPE_WEBHOOK_SECRET: Stripe needs it with STRIPE_SECRET_KEY "
                             "(without it no payment could ever be confirmed)")
        paypal = (self.paypal_client_id, self.paypal_client_secret, self.paypal_webhook_id)
        if any(paypal) and not all(paypal):
            raise ValueError("PAYPAL_WEBHOOK_ID: PayPal needs PAYPAL_CLIENT_ID, "
                             "PAYPAL_CLIENT_SECRET and PAYPAL_WEBHOOK_ID together")
        twilio = {"TWILIO_ACCOUNT_SID": self.twilio_account_sid,
                  "TWILIO_AUTH_TOKEN": self.twilio_auth_token, "TWILIO_FROM": self.twilio_from}
        if any(twilio.values()) and not all(twilio.values()):
            missing = ", ".join(name for name, value in twilio.items() if not value)
            raise ValueError(f"{missing.split(', ')[0]}: SMS needs TWILIO_ACCOUNT_SID, "
                             f"TWILIO_AUTH_TOKEN and TWILIO_FROM together (missing: {missing})")
        if self.slack_app_token and not self.slack_bot_token:
            raise ValueError("SLACK_BOT_TOKEN: Socket Mode (SLACK_APP_TOKEN) needs the bot "
                             "token and signing secret too")
        return self

    @property
    def channels(self) -> list[str]:
        """The chat platforms switched on by their credentials (the web chat always is)."""
        return [name for name, on in (("telegram", self.telegram_bot_token),
                                      ("slack", self.slack_bot_token)) if on]

    @property
    def sms_enabled(self) -> bool:
        """Twilio's three settings are there (checked together at start)."""
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def secret_key(self) -> str:
        """The configured key, else one generated once into the data dir and kept."""
        if self.secret_key_value:
            return self.secret_key_value
        made = kept(self.data_dir / "secret_key", lambda: secrets.token_hex(32).encode())
        return made.decode().strip()

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def base_url(self) -> str:
        return str(self.public_base_url).rstrip("/")


def load_settings(**overrides: object) -> Settings:
    """Read the settings; bad values become one ConfigError listing each variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "settings"
            field = Settings.model_fields.get(name)
            variable = field.validation_alias if field and field.validation_alias else name
            message = str(error["msg"]).removeprefix("Value error, ")
            if not error["loc"] and re.match(r"^[A-Z_]+: ", message):
                lines.append(message)  # a rule across variables names its own variable
                continue
            lines.append(f"{variable}: {message}")
        raise ConfigError("\n".join(lines)) from None
