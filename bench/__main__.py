"""`make bench`: run every benchmark, print a table, write bench/results/latest.json."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import uvloop

from bench import core_ops, fanout, floor, nlu, scale, support_relay, telegram, wal, webchat
from bot.nlu.embedded import build_embedded
from bot.nlu.rasa_evaluate import RasaUnavailable
from bot.pipeline import Understander

RESULTS = Path(__file__).parent / "results" / "latest.json"
T = TypeVar("T")
PAIRS = 3  # Chatcart and the floor measured in turn this many times


def against_floor(trained: Understander) -> tuple[float, dict[str, float], dict[str, float],
                                                  list[float]]:
    """Chatcart's Telegram turns and the floor's, measured in turn `PAIRS` times: this
    machine's speed drifts by a third within minutes, and a pair measured back to back
    shares the drift. The ratio and figures are those of the pair with the median ratio;
    all the ratios come too, in the order measured."""
    pairs = []
    for n in range(PAIRS):  # which goes first alternates: C F, F C, C F
        if n % 2:
            bare = served(floor.measure())
            bot = served(telegram.measure(trained))
        else:
            bot = served(telegram.measure(trained))
            bare = served(floor.measure())
        pairs.append((bare["floor_turns_per_s"] / bot["telegram_turns_per_s"], bot, bare))
    ratio, bot, bare = sorted(pairs, key=lambda pair: pair[0])[len(pairs) // 2]
    return ratio, bot, bare, [each for each, _, _ in pairs]


def served(work: Coroutine[Any, Any, T]) -> T:
    """`work` on the loop `chatcart serve` runs on: uvicorn takes uvloop when it is
    installed, as `uvicorn[standard]` installs it. Every in-process figure here, the
    floor's too, is measured on it (the scale-out figure's servers are uvicorn's own)."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(work)


def main() -> None:
    figures = served(core_ops.run_all())
    print(core_ops.table(figures))
    language = nlu.measure()
    rasa_url = os.environ.get("RASA_URL")
    rasa: dict[str, float] = {}
    if rasa_url:
        try:
            rasa = nlu.measure_rasa_sync(rasa_url)
        except (RasaUnavailable, RuntimeError) as problem:
            print(f"NLU through Rasa: not measured: {problem}")
    with tempfile.TemporaryDirectory() as folder:
        trained = build_embedded(Path(folder) / "model.joblib")
        chat = served(webchat.measure(trained))
        relay = served(support_relay.measure(trained))
        wal_sizes = served(wal.measure(trained))
        ratio, bot, bare, ratios = against_floor(trained)
    wide = asyncio.run(scale.measure()) or {}
    fan = served(fanout.run(postgres=False))
    print(f"\nNLU parse (demo catalog): p50 {language['nlu_p50_ms']:.2f} ms, "
          f"p99 {language['nlu_p99_ms']:.2f} ms, {language['nlu_parses_per_s']:.0f}/s, "
          f"accuracy {language['nlu_accuracy']:.3f} on the held-back split")
    if rasa:
        print(f"NLU through Rasa ({rasa_url}, HTTP + Chatcart's entities): "
              f"p50 {rasa['rasa_nlu_p50_ms']:.2f} ms, p99 {rasa['rasa_nlu_p99_ms']:.2f} ms, "
              f"{rasa['rasa_nlu_parses_per_s']:.0f}/s, accuracy "
              f"{rasa['rasa_nlu_accuracy']:.3f} on the same split")
    elif not rasa_url:
        print("NLU through Rasa: not measured (`make rasa`, then RASA_URL=http://127.0.0.1:5005 "
              "make bench)")
    print(f"Web chat turns (SQLite, 1 process, in-process ASGI, {chat['webchat_turns']:.0f} "
          f"turns): {chat['webchat_turns_per_s']:.0f}/s, p50 {chat['webchat_p50_ms']:.1f} ms, "
          f"p99 {chat['webchat_p99_ms']:.1f} ms")
    print(f"Telegram webhook turns (SQLite, 1 process, in-process ASGI, replies to a local "
          f"Bot API, {bot['telegram_turns']:.0f} turns, {bot['telegram_api_calls']:.0f} API "
          f"calls): {bot['telegram_turns_per_s']:.0f}/s, p50 {bot['telegram_p50_ms']:.1f} ms, "
          f"p99 {bot['telegram_p99_ms']:.1f} ms")
    print(f"Floor, a bare aiogram echo bot behind the same route and harness: "
          f"{bare['floor_turns_per_s']:.0f}/s, p50 {bare['floor_p50_ms']:.1f} ms, "
          f"p99 {bare['floor_p99_ms']:.1f} ms")
    print(wal.table(wal_sizes))
    print(support_relay.table(relay))
    print(fanout.table(fan))
    if wide:
        print(f"Telegram webhook turns on PostgreSQL + Redis, 2 serve processes and a worker "
              f"(real HTTP, {wide['scale_turns']:.0f} turns, {2 * telegram.SHOPPERS} shoppers): "
              f"{wide['scale_turns_per_s']:.0f}/s, p50 {wide['scale_p50_ms']:.1f} ms, "
              f"p99 {wide['scale_p99_ms']:.1f} ms")
    print(f"A Chatcart turn costs {ratio:.2f}x the floor's (goal: within 3x); the median of "
          f"{PAIRS} pairs measured in turn: " + ", ".join(f"{r:.2f}x" for r in ratios))
    oversold = sum(row["oversold"] for row in figures["core"].values())
    summary = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "oversold": oversold,
        "chatcart_turns_per_s": bot["telegram_turns_per_s"],
        "p50_ms": bot["telegram_p50_ms"],
        "p99_ms": bot["telegram_p99_ms"],
        "floor_turns_per_s": bare["floor_turns_per_s"],
        "ratio_to_floor": ratio,
        "ratio_to_floor_pairs": ratios,
        **bare,
        **wide,
        **language,
        **rasa,
        **chat,
        **relay,
        **fan,
        **wal_sizes,
        **bot,
        **figures,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nwritten {RESULTS}")


if __name__ == "__main__":
    main()
