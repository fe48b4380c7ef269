"""Runs every benchmark module in bench/ (or the ones named: `make bench BENCH_ARGS=ingest`).

Options after the names go to each bench (`make bench BENCH_ARGS="delivery --events 200"`); a
bench ignores the options it does not know.
"""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    available = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_")
    )
    names = [arg for arg in argv if arg in available] or available
    options = [arg for arg in argv if arg not in available]
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n##### bench.{name}", flush=True)
        module.run(options)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
