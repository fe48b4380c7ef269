"""Runs every benchmark module in bench/ (or the ones named: `make bench BENCH_ARGS=ingest`)."""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = argv or sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_")
    )
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n##### bench.{name}", flush=True)
        module.run(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
