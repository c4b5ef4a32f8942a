"""A Slack shopper returns an item with a photo shared in the direct message: the
`file_share` event names the file, the app fetches it from the (double's) file host with
the bot token, within the cap, and the return dialog checks it like a catalog image.
A URL on any other host is refused before anything is fetched."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from core.returns import photos
from core.returns.models import ReturnRequest
from tests.e2e.conftest import Platforms
from tests.e2e.platforms import SlackUser, slack_text
from tests.e2e.test_returns import jpeg
from tests.e2e.test_returns_telegram import sent_order

MIB = 1024 * 1024


def _texts(calls) -> list[str]:
    return [slack_text(call) or call.text for call in calls]


def _downloads(platforms: Platforms) -> int:
    return len(platforms.slack.of("files.download"))


async def _return_asking_for_photos(platforms: Platforms, ann: SlackUser) -> None:
    await ann.say("hi")
    number = await sent_order(platforms, "slack", f"{ann.team}:{ann.user}",
                              f"slack:{ann.channel}")
    await ann.replies()  # the confirmation and the shipping notice
    await ann.say("I want to return an item")
    await ann.press(number)
    await ann.press("Blue mug")
    await ann.press("1")
    await ann.press("Continue")
    await ann.press("Arrived damaged")
    (asked,) = await ann.press("Skip")
    assert "is requested" in slack_text(asked) and "send up to 3" in slack_text(asked)


async def test_a_slack_shopper_shares_photos_of_the_damaged_mug(platforms: Platforms):
    ann = platforms.slack_user()
    await _return_asking_for_photos(platforms, ann)

    (added,) = _texts(await ann.share(jpeg("blue")))
    assert "Photo added to return" in added and "(1 of 3)" in added
    (fetched,) = platforms.slack.of("files.download")
    assert fetched.params["host"] == platforms.slack.url.removeprefix("http://")

    # Slack says it is over 8 MiB: refused without fetching it.
    (big,) = _texts(await ann.share(b"\xff" * 100, size=9 * MIB))
    assert "larger than 8 MB" in big and _downloads(platforms) == 1
    # Slack says it is small, the host streams more: reading stops at the cap.
    (lied,) = _texts(await ann.share(jpeg("red") + b"\0" * (8 * MIB), size=2000,
                                     streamed=True))
    assert "larger than 8 MB" in lied and _downloads(platforms) == 2
    # Called a picture, it is not one: the bytes decide.
    (pdf,) = _texts(await ann.share(b"%PDF-1.7\n1 0 obj <<>> endobj\n", name="mug.jpg"))
    assert "not a readable image" in pdf
    # The same file served by the same double under another host name: never fetched.
    before = _downloads(platforms)
    elsewhere = platforms.slack.url.replace("127.0.0.1", "localhost")
    (foreign,) = _texts(await ann.share(jpeg("black"), host=elsewhere))
    assert "Please send the photo as a picture" in foreign
    assert _downloads(platforms) == before, "a URL on another host is not fetched"

    # Words typed with a photo are a message of their own, after the photo.
    answers = _texts(await ann.share(jpeg("green"), text="where is my return?"))
    assert "Photo added to return" in answers[0] and "(2 of 3)" in answers[0]
    assert any("Requested" in text or "requested" in text for text in answers[1:]), answers

    async with platforms.shop.transaction() as session:
        ret = await session.scalar(select(ReturnRequest))
        assert ret.chat_key == f"slack:{ann.channel}" and len(ret.photos) == 2
        keys = [photo.storage_key for photo in ret.photos]
    storage = photos.storage(platforms.shop.settings)
    assert sorted(storage.read(key) for key in keys) == sorted([jpeg("blue"), jpeg("green")])


async def test_a_photo_outside_a_return_gets_an_answer_and_its_words_are_read(
        platforms: Platforms):
    ann = platforms.slack_user()
    await ann.say("hi")
    answers = _texts(await ann.share(jpeg("blue"), text="show me mugs"))
    assert "I can take photos while you ask for a return" in answers[0]
    assert any("Blue mug" in text for text in answers[1:]), answers
    async with platforms.shop.transaction() as session:
        assert await session.scalar(select(ReturnRequest)) is None


async def test_files_shared_by_bots_or_in_channels_are_ignored(platforms: Platforms):
    ann = platforms.slack_user()
    by_bot = ann.share_event([platforms.slack.upload(jpeg())])
    by_bot["event"]["bot_id"] = "B0OTHER"
    in_channel = ann.share_event([platforms.slack.upload(jpeg())])
    in_channel["event"]["channel_type"] = "channel"
    for event in (by_bot, in_channel):
        assert (await ann.post_json(event)).status_code == 200
    await asyncio.sleep(0.2)
    await platforms.settle_slack()
    assert ann.mine() == [] and _downloads(platforms) == 0
