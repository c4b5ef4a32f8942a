"""A Rasa server trained on Chatcart's exported data, shared by these tests.

Collected only by `make test-rasa` (CHATCART_RASA_TESTS=1; see tests/conftest.py): it
costs minutes and the Rasa environment's gigabytes. Without that environment the tests
are skipped, saying why.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.nlu.embedded import EmbeddedNlu
from bot.nlu.rasa import RasaNlu
from bot.nlu.rasa_export import export
from tests.support import rasa

TRAINING_MINUTES = 20  # training, loading and a test, on two cores


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/rasa/" in str(item.path):
            item.add_marker(pytest.mark.timeout(TRAINING_MINUTES * 60))


@pytest.fixture(scope="session")
def rasa_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """rasa/'s config and domain, Chatcart's data exported beside them, trained."""
    if (reason := rasa.missing()) is not None:
        pytest.skip(reason)
    project = tmp_path_factory.mktemp("rasa-project")
    for name in ("config.yml", "domain.yml"):
        shutil.copy(rasa.ROOT / "rasa" / name, project / name)
    export(project / "data")
    seconds = rasa.train(project, project / "train.log")
    print(f"\nrasa train nlu: {seconds:.0f} s")
    return project


@pytest.fixture(scope="session")
def rasa_server(rasa_project: Path) -> Iterator[rasa.RasaServer]:
    server = rasa.RasaServer(rasa_project, rasa_project / "server.log")
    yield server
    server.stop()


@pytest.fixture
async def trained(rasa_server: rasa.RasaServer,
                  trained: EmbeddedNlu) -> AsyncIterator[RasaNlu]:
    """The journeys' NLU, Rasa classifying: nothing may be left to the fallback."""
    nlu = RasaNlu(rasa_server.url, trained, timeout=10)
    yield nlu
    await nlu.aclose()
    assert nlu.fallbacks == 0, "the embedded NLU stood in for Rasa"
