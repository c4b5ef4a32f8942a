"""The pages behind the signed links in every mail: `GET/POST /notifications/<token>` shows
and saves a shopper's notification choices and quiet hours, with no sign-in; `GET/POST
/notifications/unsubscribe/<token>` is one-click unsubscribe (RFC 8058) from the mail's
category by mail.

The token is the whole authority (core.notifications.links): a tampered, expired or spent
one answers 404 and changes nothing. A save or an unsubscribe spends it, in the same
transaction as the change, and the answer carries a fresh link. A GET never changes
anything: mail scanners fetch links. Pages are rendered on the server with no script (the
site CSP allows none inline); bodies are read within SMALL_CAP and their fields bounded.
"""

from __future__ import annotations

from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.bodies import SMALL_CAP, BadBody, read_body
from core.audit.actor import Actor
from core.audit.actor import Channel as ActorChannel
from core.config import Settings
from core.i18n import _, language_of
from core.notifications import links, preferences
from core.notifications import settings as shown
from core.notifications.events import Channel
from core.notifications.kinds import TRANSACTIONAL, Category
from core.notifications.links import Link, LinkSigner
from core.notifications.mail import Email
from core.notifications.preferences import Choices
from core.notifications.render import with_preferences_link
from core.shop import Shop

STATIC = Path(__file__).parent / "notification_static"
_PAGES = Environment(loader=FileSystemLoader(STATIC), autoescape=select_autoescape(["html"]),
                     trim_blocks=True, lstrip_blocks=True)
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
ACTOR = Actor(ActorChannel.WEB, label="preferences link")
ONE_CLICK = "One-Click"


def manage_url(settings: Settings, holder: str) -> str:
    return f"{settings.base_url}/notifications/{LinkSigner(settings.secret_key).make(holder)}"


def unsubscribe_url(settings: Settings, holder: str, category: Category) -> str:
    token = LinkSigner(settings.secret_key).unsubscribe(holder, category)
    return f"{settings.base_url}/notifications/unsubscribe/{token}"


def with_links(settings: Settings, email: Email, mail: dict[str, Any]) -> Email:
    """The mail as it goes to its reader: a link to their choices in the footer, and, unless
    it is transactional, List-Unsubscribe with one-click (RFC 8058) for its category."""
    holder = mail.get("holder")
    if not isinstance(holder, str) or not holder:
        return email
    locale = mail.get("locale") if isinstance(mail.get("locale"), str) else None
    body, html = with_preferences_link(email.body, email.html,
                                       manage_url(settings, holder), locale)
    headers = email.headers
    try:
        category = Category(str(mail.get("category")))
    except ValueError:
        category = Category.ACCOUNT  # unknown: treated as transactional, no unsubscribe
    if category not in TRANSACTIONAL:
        headers += (("List-Unsubscribe", f"<{unsubscribe_url(settings, holder, category)}>"),
                    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
    return Email(to=email.to, subject=email.subject, body=body, html=html,
                 message_id=email.message_id, log_body=email.log_body, headers=headers)


def _locale(request: Request) -> str | None:
    return request.headers.get("accept-language", "").split(",")[0][:35] or None


def _not_found(locale: str | None, shop: Shop) -> HTMLResponse:
    text = {"title": _("Link not found", locale=locale),
            "heading": _("This link doesn't work any more", locale=locale),
            "body": _("It may be old, already used, or not copied whole. Every message we "
                      "send has a fresh link to your settings.", locale=locale)}
    page = _PAGES.get_template("unsubscribe.html").render(
        lang=language_of(locale), shop=shop.settings.shop_name, text=text,
        notice_kind="problem", token=None, manage=None)
    return HTMLResponse(page, status_code=404, headers=HEADERS)


async def _form(request: Request) -> dict[str, str]:
    """The posted form's fields, each at most 100 characters, at most 40 of them: urlencoded
    or multipart/form-data (RFC 8058 asks one-click senders for the latter)."""
    raw = await read_body(request, SMALL_CAP)
    kind = request.headers.get("content-type", "")
    if kind.lower().startswith("multipart/form-data"):
        return _multipart(kind, raw)
    try:
        fields = parse_qs(raw.decode("utf-8"), max_num_fields=40, keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise BadBody(400, "The form could not be read.") from None
    return {name[:100]: values[0][:100] for name, values in fields.items()}


def _multipart(content_type: str, raw: bytes) -> dict[str, str]:
    """A small multipart/form-data body's text fields, read with the standard library's
    MIME parser (the body is already bounded by SMALL_CAP)."""
    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + raw)
    if not message.is_multipart():
        raise BadBody(400, "The form could not be read.")
    fields: dict[str, str] = {}
    for part in list(message.iter_parts())[:40]:
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or part.get_filename() is not None:
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            fields.setdefault(name[:100], payload.decode("utf-8", "replace").strip()[:100])
    return fields


def _wanted(form: dict[str, str], choices: Choices) -> dict[tuple[Category, Channel], bool]:
    """Every switch the page showed: a ticked box is on, an unticked one off."""
    return {(category, channel): f"{category.value}:{channel.value}" in form
            for category in shown.SWITCHABLE for channel in shown.channels_for(choices)}


def _page(shop: Shop, locale: str | None, choices: Choices, token: str,
          notice: str | None = None, kind: str = "done", status: int = 200) -> HTMLResponse:
    channels = shown.channels_for(choices)
    rows = [{"label": shown.category_label(category, locale),
             "cells": [{"name": preferences.choice_key(category, channel),
                        "channel": shown.channel_label(channel, locale),
                        "on": preferences.is_on(category, channel, choices)}
                       for channel in channels]}
            for category in shown.SWITCHABLE]
    current = shown.preset_of(choices)
    presets = [{"value": name, "selected": name == (current or "off"),
                "label": _("Off", locale=locale) if start is None or end is None else
                _("{start} to {end}", start=shown.clock(start), end=shown.clock(end),
                  locale=locale)} for name, (start, end) in shown.QUIET_PRESETS.items()]
    text = {"title": _("Your notifications — {shop}", shop=shop.settings.shop_name,
                       locale=locale),
            "heading": _("What we send you, and how", locale=locale),
            "what": _("Messages about", locale=locale),
            "account": shown.category_label(Category.ACCOUNT, locale),
            "always": _("Always on: they tell you when someone changes your account.",
                        locale=locale),
            "quiet": _("Quiet hours", locale=locale),
            "quiet_hint": _("Nothing that can wait arrives in these hours; it comes when "
                            "they end.", locale=locale),
            "hours": _("Hours", locale=locale),
            "zone": _("Time zone, for example Europe/Berlin", locale=locale),
            "save": _("Save", locale=locale)}
    page = _PAGES.get_template("preferences.html").render(
        lang=language_of(locale), shop=shop.settings.shop_name, text=text, token=token,
        channels=[{"label": shown.channel_label(c, locale)} for c in channels], rows=rows,
        presets=presets, zone=choices.time_zone or "UTC", notice=notice, notice_kind=kind)
    return HTMLResponse(page, status_code=status, headers=HEADERS)


async def _open(shop: Shop, token: str, purpose: str) -> Link | None:
    link = LinkSigner(shop.settings.secret_key).read(token, purpose)
    if link is None:
        return None
    async with shop.sessions() as session:
        return None if await links.used(session=session, link=link) else link


def _zone(raw: str) -> str | None:
    """An IANA time zone name as typed, if it is one."""
    name = raw.strip()
    if not name or len(name) > 64:
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return name


def notification_router() -> APIRouter:
    router = APIRouter()   # in /openapi.json, so the fuzz suite draws requests for it

    @router.get("/notifications/notifications.css", include_in_schema=False)
    async def style() -> FileResponse:
        return FileResponse(STATIC / "notifications.css", media_type="text/css")

    @router.get("/notifications/unsubscribe/{token}")
    async def confirm_unsubscribe(request: Request, token: str) -> Response:
        shop: Shop = request.app.state.shop
        locale = _locale(request)
        link = await _open(shop, token, links.UNSUBSCRIBE)
        if link is None or link.category is None:
            return _not_found(locale, shop)
        label = shown.category_label(link.category, locale)
        text = {"title": _("Unsubscribe", locale=locale),
                "heading": _("Stop these emails?", locale=locale),
                "body": _("You will no longer get “{category}” by email.", category=label,
                          locale=locale),
                "confirm": _("Unsubscribe", locale=locale),
                "manage": _("Or choose what we send you, and how", locale=locale)}
        page = _PAGES.get_template("unsubscribe.html").render(
            lang=language_of(locale), shop=shop.settings.shop_name, text=text,
            notice_kind="", token=token, manage=None)
        return HTMLResponse(page, headers=HEADERS)

    @router.post("/notifications/unsubscribe/{token}")
    async def unsubscribe(request: Request, token: str) -> Response:
        shop: Shop = request.app.state.shop
        locale = _locale(request)
        try:
            form = await _form(request)
        except BadBody as bad:
            return HTMLResponse(bad.message, status_code=bad.status, headers=HEADERS)
        link = LinkSigner(shop.settings.secret_key).read(token, links.UNSUBSCRIBE)
        if link is None or link.category is None:
            return _not_found(locale, shop)
        if form.get("List-Unsubscribe") != ONE_CLICK:
            return HTMLResponse(_("Send List-Unsubscribe=One-Click to unsubscribe.",
                                  locale=locale), status_code=400, headers=HEADERS)
        async with shop.transaction() as session:
            if not await links.use(session=session, link=link):
                return _not_found(locale, shop)
            await preferences.set_choice(session=session, holder=link.holder,
                                         category=link.category, channel=Channel.EMAIL,
                                         on=False, actor=ACTOR)
        label = shown.category_label(link.category, locale)
        text = {"title": _("Unsubscribed", locale=locale),
                "heading": _("You are unsubscribed", locale=locale),
                "body": _("You will no longer get “{category}” by email.", category=label,
                          locale=locale),
                "manage": _("Choose what we send you, and how", locale=locale)}
        page = _PAGES.get_template("unsubscribe.html").render(
            lang=language_of(locale), shop=shop.settings.shop_name, text=text,
            notice_kind="done", token=None,
            manage=LinkSigner(shop.settings.secret_key).make(link.holder))
        return HTMLResponse(page, headers=HEADERS)

    @router.get("/notifications/{token}")
    async def show(request: Request, token: str) -> Response:
        shop: Shop = request.app.state.shop
        locale = _locale(request)
        link = await _open(shop, token, links.MANAGE)
        if link is None:
            return _not_found(locale, shop)
        async with shop.sessions() as session:
            choices = await preferences.choices_of(session=session, holder=link.holder)
        return _page(shop, locale, choices, token)

    @router.post("/notifications/{token}")
    async def save(request: Request, token: str) -> Response:
        shop: Shop = request.app.state.shop
        locale = _locale(request)
        try:
            form = await _form(request)
        except BadBody as bad:
            return HTMLResponse(bad.message, status_code=bad.status, headers=HEADERS)
        link = LinkSigner(shop.settings.secret_key).read(token, links.MANAGE)
        if link is None:
            return _not_found(locale, shop)
        quiet = shown.QUIET_PRESETS.get(form.get("quiet", "off"))
        zone = _zone(form.get("zone", "") or "UTC")
        if quiet is None or zone is None:
            async with shop.sessions() as session:
                if await links.used(session=session, link=link):
                    return _not_found(locale, shop)
                choices = await preferences.choices_of(session=session, holder=link.holder)
            problem = (_("That time zone isn't one I know, for example Europe/Berlin.",
                         locale=locale) if zone is None else
                       _("Pick quiet hours from the list.", locale=locale))
            return _page(shop, locale, choices, token, problem, "problem", 400)
        async with shop.transaction() as session:
            if not await links.use(session=session, link=link):  # spent: nothing changes
                return _not_found(locale, shop)
            choices = await preferences.choices_of(session=session, holder=link.holder)
            await shown.apply(session=session, holder=link.holder,
                              wanted=_wanted(form, choices), actor=ACTOR)
            await preferences.set_quiet_hours(
                session=session, holder=link.holder, quiet_from=quiet[0],
                quiet_until=quiet[1], time_zone=zone, actor=ACTOR)
            choices = await preferences.choices_of(session=session, holder=link.holder)
        fresh = LinkSigner(shop.settings.secret_key).make(link.holder)
        return _page(shop, locale, choices, fresh, _("Saved. This is what we send you now.",
                                                     locale=locale))

    return router
