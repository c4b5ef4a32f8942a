"""The `chatcart` command line: serve, demo, database, staff accounts, catalog import,
notification test."""

from __future__ import annotations

import asyncio
import secrets
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from core.config import ConfigError, Settings, load_settings
from core.errors import DomainError
from core.shop import Shop

if TYPE_CHECKING:
    from bot.channels.telegram.channel import TelegramChannel
    from bot.pipeline import Understander

T = TypeVar("T")

app = typer.Typer(help="Chatcart: a conversational shop.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
catalog_app = typer.Typer(help="Catalog data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
nlu_app = typer.Typer(help="The embedded language understanding.", no_args_is_help=True)
telegram_app = typer.Typer(help="The Telegram bot's registration.", no_args_is_help=True)
app.add_typer(telegram_app, name="telegram")
app.add_typer(catalog_app, name="catalog")
app.add_typer(nlu_app, name="nlu")
notify_app = typer.Typer(help="Notifications to shoppers (email, SMS).",
                         no_args_is_help=True)
app.add_typer(notify_app, name="notify")

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")]


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        typer.secho(f"Configuration problem:\n{exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(2) from None


def _run(work: Callable[[Shop], Awaitable[T]], settings: Settings | None = None) -> T:
    """Run one async job with a Shop; domain errors print their message and exit 1."""
    settings = settings or _settings()

    async def main() -> T:
        shop = Shop.from_settings(settings)
        try:
            return await work(shop)
        finally:
            await shop.close()

    try:
        return asyncio.run(main())
    except DomainError as exc:
        typer.secho(exc.message, err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


def _nlu(settings: Settings) -> Understander:
    """The embedded NLU (trained once, then loaded), behind Rasa when `RASA_URL` is set."""
    from bot.nlu.embedded import build_embedded

    embedded = build_embedded(settings.data_dir / "nlu-model.joblib")
    if settings.rasa_url:
        from bot.nlu.rasa import RasaNlu

        return RasaNlu(settings.rasa_url, embedded)
    return embedded


def _serve(settings: Settings, host: str, port: int, telegram_polling: bool = False,
           background: bool = True) -> None:
    import logging

    from pydantic import AnyHttpUrl

    from bot import logs
    from bot.server import create_app, run

    logs.configure(settings.log_level)
    if "public_base_url" not in settings.model_fields_set:
        # Links the shop hands out (payment pages) must reach this server as started.
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        settings = settings.model_copy(update={
            "public_base_url": AnyHttpUrl(f"http://{shown}:{port}")})
    nlu = _nlu(settings)
    logs.event(logging.getLogger("chatcart"), "server.start", host=host, port=port,
               database=logs.safe_url(settings.database_url),
               redis=logs.safe_url(settings.redis_url) if settings.redis_url else "off",
               nlu="rasa" if settings.rasa_url else "embedded")
    application = create_app(settings, nlu=nlu, telegram_polling=telegram_polling,
                             background=background)
    run(application, host, port, settings.log_level.lower(), settings.forwarded_allow_ips)


Polling = Annotated[bool, typer.Option(
    "--telegram-polling", help="Fetch Telegram updates by long polling (no public URL needed) "
    "instead of receiving them at /telegram/webhook.")]


Jobs = Annotated[bool, typer.Option(
    "--jobs/--no-jobs", help="Run the background jobs (expiring unpaid orders, sending queued "
    "Telegram and Slack messages) in this process; --no-jobs when a `chatcart worker` "
    "runs them.")]


@app.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000, telegram_polling: Polling = False,
          jobs: Jobs = True) -> None:
    """Serve the shop: health, media, and the channels that are configured."""
    settings = _settings()
    if telegram_polling and not settings.telegram_bot_token:
        typer.secho("--telegram-polling needs TELEGRAM_BOT_TOKEN.", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    _run(_check_schema, settings)
    _serve(settings, host, port, telegram_polling, background=jobs)


@app.command()
def worker(
    heartbeat: Annotated[Path | None, typer.Option(
        help="A file touched after every sweep that worked, for a health check.")] = None,
    sweep_seconds: Annotated[float, typer.Option(
        min=0.5, help="Seconds between sweeps (expiry, purges).")] = 30.0,
) -> None:
    """The background jobs on their own (scale-out: serve with --no-jobs): expire unpaid
    orders, deliver queued Telegram and Slack messages with retries, purge old rows."""
    from bot import logs
    from bot.jobs import run_worker

    settings = _settings()
    logs.configure(settings.log_level)
    _run(_check_schema, settings)
    asyncio.run(run_worker(settings, sweep_seconds=sweep_seconds, heartbeat=heartbeat,
                           settle_heap=True))


async def _check_schema(shop: Shop) -> None:
    state = await shop.database_state()
    if not state["ok"]:
        typer.secho(f"The database is not ready ({state}); run `chatcart db upgrade`.",
                    err=True, fg=typer.colors.RED)
        raise typer.Exit(2)


@app.command()
def demo(host: Host = "127.0.0.1", port: Port = 8000,
         no_serve: Annotated[bool, typer.Option("--no-serve",
                                                help="Fill the demo shop and stop.")] = False,
         ) -> None:
    """Create and fill a demo shop (40+ products with images), print the login, then serve."""
    from bot.demo import fill

    settings = _settings()
    result = _run(fill, settings)
    typer.echo(f"Demo shop ready: {result.products} products in {result.categories} categories"
               f" and {result.subcategories} subcategories"
               + (" (just imported)." if result.imported else "."))
    password = result.admin_password or "(not known: it was set before this data directory)"
    typer.echo(f"Admin login: {result.admin_email} / {password}")
    if not no_serve:
        typer.echo(f"Serving on http://{host}:{port}  (health: /healthz)")
        _serve(settings, host, port)


def _telegram(settings: Settings, work: Callable[[TelegramChannel], Awaitable[None]]) -> None:
    """Run `work(channel)` against the Bot API with this shop's Telegram settings."""
    if not settings.telegram_bot_token:
        typer.secho("TELEGRAM_BOT_TOKEN is not set.", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    from bot.channels.telegram.channel import RegistrationFailed, TelegramChannel

    async def main() -> None:
        channel = TelegramChannel(settings, pipeline=None)
        try:
            await work(channel)
        finally:
            await channel.bot.session.close()

    try:
        asyncio.run(main())
    except RegistrationFailed as refused:
        typer.secho(f"Telegram refused: {refused}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


@telegram_app.command("set-webhook")
def telegram_set_webhook() -> None:
    """Register PUBLIC_BASE_URL/telegram/webhook (with the secret token) and the command menu."""
    settings = _settings()
    if not settings.base_url.startswith("https://"):
        typer.secho(f"Telegram only delivers to https URLs; PUBLIC_BASE_URL is "
                    f"{settings.base_url}. Use `chatcart serve --telegram-polling` locally.",
                    err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    _telegram(settings, lambda channel: channel.set_webhook())
    typer.echo(f"Telegram will deliver updates to {settings.base_url}/telegram/webhook")


@telegram_app.command("delete-webhook")
def telegram_delete_webhook() -> None:
    """Stop webhook delivery (for example before switching to --telegram-polling)."""
    _telegram(_settings(), lambda channel: channel.delete_webhook())
    typer.echo("Telegram webhook removed.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database to the latest schema."""

    async def work(shop: Shop) -> str | None:
        await shop.migrate()
        from core import migrate

        return await migrate.current_revision(shop.engine)

    revision = _run(work)
    typer.echo(f"Database is at revision {revision}.")


@admin_app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="The staff member's email.")],
    role: Annotated[str, typer.Option(help="admin or support.")],
    password: Annotated[str | None, typer.Option(
        help="Omit to be asked (or, without a terminal, to get a generated one).")] = None,
) -> None:
    """Create a staff account (admin or support)."""
    from core.accounts import service as accounts
    from core.accounts.models import Role
    from core.audit.actor import Actor
    from core.clock import now

    if role.strip().lower() not in (Role.ADMIN, Role.SUPPORT):
        typer.secho("--role must be admin or support.", err=True, fg=typer.colors.RED)
        raise typer.Exit(2)
    generated = False
    if password is None:
        if sys.stdin.isatty():
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password, generated = secrets.token_urlsafe(15), True

    async def work(shop: Shop) -> str:
        await shop.migrate()
        async with shop.transaction() as session:
            user = await accounts.register(session=session, email=email, password=password,
                                           role=Role(role.strip().lower()),
                                           actor=Actor.cli("admin create-user"))
            user.email_verified_at = now()  # staff accounts are vouched for by whoever runs this
            return user.email

    created = _run(work)
    typer.echo(f"Created {role.strip().lower()} {created}.")
    if generated:
        typer.echo(f"Generated password (shown once): {password}")


@admin_app.command("unlock")
def unlock_user(email: Annotated[str, typer.Option(help="The locked staff member's email.")],
                ) -> None:
    """Unlock a staff account that too many wrong sign-in codes locked (an admin can do it
    on the person's page; this is for when no admin can sign in)."""
    from core.accounts import second_factor
    from core.accounts import service as accounts
    from core.accounts.errors import AccountError
    from core.audit.actor import Actor
    from core.errors import NotFound

    async def work(shop: Shop) -> str:
        async with shop.transaction() as session:
            user = await accounts.get_by_email(session=session, email=email)
            if user is None:
                raise NotFound(AccountError.NOT_FOUND, f"No account for {email}.")
            await second_factor.unlock(session=session, user_id=user.id,
                                       actor=Actor.cli("admin unlock"))
            return user.email

    typer.echo(f"Unlocked {_run(work)}: it can sign in again.")


@catalog_app.command("import")
def catalog_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True,
                                         help="CSV or JSON in the catalog import format.")],
) -> None:
    """Import products from CSV/JSON: all rows or none; bad rows are listed by line."""
    from core.audit.actor import Actor
    from core.catalog import importer

    async def work(shop: Shop) -> importer.Report:
        await shop.migrate()
        rows = importer.read_rows(file.read_bytes(), filename=file.name,
                                  currency=shop.settings.shop_currency, base=file.parent)
        async with shop.transaction() as session:
            return await importer.import_rows(session=session, rows=rows, storage=shop.images,
                                              currency=shop.settings.shop_currency,
                                              actor=Actor.cli(f"catalog import {file.name}"))

    report = _run(work)
    typer.echo(f"Imported {report.total} products: {len(report.created)} created, "
               f"{len(report.updated)} updated.")


@nlu_app.command("train")
def nlu_train() -> None:
    """Train the intent model from bot/nlu/data/nlu.yml and save it in the data dir."""
    import time

    from bot.nlu.classifier import IntentClassifier
    from bot.nlu.embedded import DATA
    from bot.nlu.saved_model import fingerprint, save_classifier
    from bot.nlu.training_data import load_training_data

    settings = _settings()
    data = load_training_data(DATA / "nlu.yml")
    started = time.perf_counter()
    classifier = IntentClassifier.train(data.examples)
    path = settings.data_dir / "nlu-model.joblib"
    save_classifier(classifier, path, fingerprint(data.examples))
    typer.echo(f"Trained on {len(data.examples)} examples of {len(data.intents)} intents in "
               f"{time.perf_counter() - started:.2f} s; saved {path}.")


@nlu_app.command("parse")
def nlu_parse(text: Annotated[str, typer.Argument(help="What a shopper might type.")]) -> None:
    """Print Rasa's /model/parse JSON for TEXT (with the catalog's names when migrated)."""
    import json

    settings = _settings()
    nlu = _nlu(settings)

    from sqlalchemy.engine import make_url

    # Probing a SQLite file that is not there would create it: only look at a real shop.
    database = make_url(settings.database_url).database
    absent = settings.is_sqlite and not (database and Path(database).exists())

    async def work(shop: Shop) -> dict[str, object]:
        if not absent and (await shop.database_state())["ok"]:
            await nlu.refresh_catalog(shop)
        return (await nlu.understand(text)).to_rasa_json(text)

    typer.echo(json.dumps(_run(work, settings), indent=2, ensure_ascii=False))


@nlu_app.command("evaluate")
def nlu_evaluate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                         help="Rasa-format test file.")],
    rasa: Annotated[bool, typer.Option(
        "--rasa", help="Classify through the Rasa server at RASA_URL.")] = False,
    compare: Annotated[bool, typer.Option(
        "--compare", help="The embedded NLU and the Rasa server at RASA_URL, side by "
        "side.")] = False,
) -> None:
    """Per-intent precision/recall/F1, confusions and entity F1 on a Rasa-format test file."""
    from bot.nlu.embedded import build_embedded
    from bot.nlu.evaluate import evaluate, side_by_side
    from bot.nlu.training_data import load_training_data

    settings = _settings()
    embedded = build_embedded(settings.data_dir / "nlu-model.joblib")
    try:
        test = load_training_data(file)
    except ValueError as problem:
        typer.secho(f"{file}: {problem}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    if not (rasa or compare):
        typer.echo(evaluate(test, embedded.parser).format_table())
        return
    if not settings.rasa_url:
        typer.secho("Set RASA_URL to the Rasa server (`make rasa` starts one on "
                    "http://127.0.0.1:5005).", err=True, fg=typer.colors.RED)
        raise typer.Exit(1)
    from bot.nlu.rasa_evaluate import RasaUnavailable, evaluate_through_rasa

    try:
        through_rasa = asyncio.run(evaluate_through_rasa(test, settings.rasa_url, embedded))
    except RasaUnavailable as problem:
        typer.secho(str(problem), err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    if compare:
        typer.echo(side_by_side(evaluate(test, embedded.parser), through_rasa,
                                ("embedded", f"rasa ({settings.rasa_url})")))
    else:
        typer.echo(through_rasa.format_table())


@nlu_app.command("export-rasa")
def nlu_export_rasa(
    folder: Annotated[Path, typer.Argument(file_okay=False,
                                           help="The Rasa project's data folder.")],
) -> None:
    """Write Chatcart's NLU training data as FOLDER/nlu.yml for a Rasa project (`rasa/`)."""
    from bot.nlu.rasa_export import export

    try:
        target, data = export(folder)
    except (OSError, ValueError) as problem:
        typer.secho(f"Could not export: {problem}", err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None
    typer.echo(f"Wrote {target}: {len(data.examples)} examples of {len(data.intents)} "
               f"intents, {len(data.synonyms)} synonyms, {len(data.lookups)} lookup tables.")


@notify_app.command("test")
def notify_test(to: Annotated[str, typer.Option(
        "--to", help="The email address or phone number (+14155550100) to send a test "
                     "message to.")]) -> None:
    """Send a test message now, and say plainly what went wrong if it could not go."""
    from bot.notify_test import NotifyTestError, send_test

    settings = _settings()
    try:
        typer.echo(asyncio.run(send_test(settings, to)))
    except NotifyTestError as exc:
        typer.secho(str(exc), err=True, fg=typer.colors.RED)
        raise typer.Exit(1) from None


@app.command()
def chat() -> None:
    """Shop in the terminal: type as you would in a chat; numbers pick buttons; `quit` ends."""
    from bot import bootstrap
    from bot.channels.terminal import converse

    settings = _settings()
    nlu = _nlu(settings)

    def read() -> str | None:
        try:
            return input("> ")
        except EOFError:
            return None

    async def work(shop: Shop) -> None:
        await shop.migrate()
        await nlu.refresh_catalog(shop)
        redis = bootstrap.redis(shop)
        try:
            pipeline = bootstrap.pipeline(shop, nlu, bootstrap.session_store(redis), redis)
            await converse(pipeline.handle, read, typer.echo)
        finally:
            if redis is not None:
                await redis.aclose()

    _run(work, settings)


def main() -> None:
    app()
