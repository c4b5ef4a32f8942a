"""`make bench`: run every benchmark, print a table, write bench/results/latest.json."""

from __future__ import annotations

import asyncio
import json
import platform
import sys
from pathlib import Path

from bench import core_ops

RESULTS = Path(__file__).parent / "results" / "latest.json"


def main() -> None:
    figures = asyncio.run(core_ops.run_all())
    print(core_ops.table(figures))
    oversold = sum(row["oversold"] for row in figures["core"].values())
    summary = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "oversold": oversold,
        **figures,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(summary, indent=2) + "\n")
    print(f"\nwritten {RESULTS}")


if __name__ == "__main__":
    main()
