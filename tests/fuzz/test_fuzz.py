"""The fuzz suite in `make test`: about a minute and a half of requests drawn from the
app's own /openapi.json and hostile mutations of them, against the shop with every
channel and gateway on. Not one may get a 5xx, hang, or log a traceback.
`FUZZ_SECONDS` changes the budget; `make fuzz` runs the long campaign.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import new_database_url
from tests.fuzz.harness import LoggedFailures, campaign
from tests.support.everything_on import Everything, everything_on

SECONDS = float(os.environ.get("FUZZ_SECONDS", "90"))


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return new_database_url(request, "sqlite", tmp_path)


@pytest.fixture
async def shop_on(sqlite_url: str, tmp_path: Path, trained) -> AsyncIterator[Everything]:
    async with everything_on(sqlite_url, tmp_path / "data", trained) as everything:
        yield everything


@pytest.mark.timeout(SECONDS + 120)
async def test_fuzzed_requests_get_no_5xx_no_hang_and_log_no_traceback(shop_on):
    logged = LoggedFailures()
    root = logging.getLogger()
    root.addHandler(logged)
    schema = (await shop_on.http.get("/openapi.json")).json()
    transport = httpx.ASGITransport(app=shop_on.app, raise_app_exceptions=False)
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://fuzz") as client:
            tally = await campaign(client, schema, SECONDS)
    finally:
        root.removeHandler(logged)
    print("\n" + tally.report(time.monotonic() - started, len(logged.records)))
    assert tally.sent > 500, "the budget sends a fair number of requests"
    assert {status for status in tally.statuses if status < 300}, "some requests got through"
    assert tally.server_errors == 0 and tally.hangs == 0, "\n".join(tally.failures)
    assert not logged.records, "\n".join(logged.records[:20])
