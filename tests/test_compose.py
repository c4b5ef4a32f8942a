"""docker-compose.yml: accepted by Compose, and wired as the scale-out shape needs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"


def _compose() -> list[str]:
    if shutil.which("docker") and subprocess.run(
            ["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    reason = "no Compose found (apt-get install docker-compose)"
    if IN_CI:
        pytest.fail(f"CI must check docker-compose.yml, but: {reason}", pytrace=False)
    pytest.skip(reason)


def _services(tmp_path: Path, **variables: str) -> dict[str, dict]:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **variables}
    checked = subprocess.run([*_compose(), "-f", str(ROOT / "docker-compose.yml"), "config"],
                             capture_output=True, text=True, env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    return dict(yaml.safe_load(checked.stdout)["services"])


def test_compose_accepts_the_file_and_wires_app_worker_postgres_and_redis(tmp_path):
    services = _services(tmp_path)
    assert {"app", "worker", "db", "redis", "migrate"} <= set(services)
    app, worker = services["app"], services["worker"]
    assert "--no-jobs" in app["command"] and app["command"][:2] == ["chatcart", "serve"]
    assert worker["command"][:2] == ["chatcart", "worker"]
    for name in ("app", "worker", "db", "redis"):
        assert "healthcheck" in services[name], name
    for process in (app, worker):
        environment = process["environment"]
        assert environment["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert environment["REDIS_URL"] == "redis://redis:6379/0"
        assert any(":/var/lib/chatcart" in str(volume) or  # Compose 1 writes strings
                   (isinstance(volume, dict) and volume.get("target") == "/var/lib/chatcart")
                   for volume in process["volumes"]), "pictures and key shared"
        assert process["depends_on"]["migrate"]["condition"] == \
            "service_completed_successfully"


def test_the_rasa_profile_exports_chatcarts_data_trains_and_serves_it(tmp_path):
    # Compose 2 leaves out services of profiles not asked for.
    services = _services(tmp_path, RASA_URL="http://rasa:5005", COMPOSE_PROFILES="rasa")
    data, train, rasa = services["rasa-data"], services["rasa-train"], services["rasa"]
    for service in (data, train, rasa):
        assert service["profiles"] == ["rasa"]  # only with `--profile rasa`
    assert data["command"][:3] == ["chatcart", "nlu", "export-rasa"]
    assert train["image"] == rasa["image"] == "rasa/rasa:3.6.21-full"
    assert train["command"][:2] == ["train", "nlu"]
    assert train["depends_on"]["rasa-data"]["condition"] == "service_completed_successfully"
    assert rasa["depends_on"]["rasa-train"]["condition"] == "service_completed_successfully"
    assert rasa["command"][:2] == ["run", "--enable-api"] and "healthcheck" in rasa
    assert services["app"]["environment"]["RASA_URL"] == "http://rasa:5005"
    assert services["worker"]["environment"]["RASA_URL"] == "http://rasa:5005"
