"""Runs every benchmark module in bench/ (or the ones named: `make bench BENCH_ARGS=ingest`).

Options after the names go to each bench (`make bench BENCH_ARGS="delivery --events 200"`); a
bench ignores the options it does not know.
"""

import importlib
import pkgutil
import sys
import traceback
from pathlib import Path


def main(argv: list[str]) -> int:
    available = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_")
    )
    names = [arg for arg in argv if arg in available] or available
    options = [arg for arg in argv if arg not in available]
    failed = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n##### bench.{name}", flush=True)
        try:
            module.run(options)
        except Exception:  # noqa: BLE001 - one broken bench must not hide the others' figures
            traceback.print_exc()
            failed.append(name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
