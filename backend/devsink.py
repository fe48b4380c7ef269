"""A local webhook receiver for trying deliveries (README quickstart): prints each request and
saves the last one (headers + body as received) to a JSON file for the signature check.

    python3 backend/devsink.py --port 9000 --save /tmp/last-delivery.json

Standard library only: it runs with any Python 3, outside the project's virtualenv.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def make_handler(save_to: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            delivery = {
                "headers": {name.lower(): value for name, value in self.headers.items()},
                "body": body.decode("utf-8", errors="replace"),
            }
            # Written whole then renamed: a reader never sees half a file.
            partial = save_to.with_suffix(".partial")
            partial.write_text(json.dumps(delivery, indent=2))
            os.replace(partial, save_to)
            print(f"{self.command} {self.path} webhook-id={self.headers.get('webhook-id')}")
            print(f"  body: {delivery['body']}", flush=True)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_PUT = do_PATCH = do_POST  # noqa: N815 - destinations may use these methods

        def log_message(self, *args: object) -> None:
            pass  # the lines above say it better

    return Handler


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--save", default="last-delivery.json")
    options = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", options.port), make_handler(Path(options.save)))
    print(f"sink listening on http://127.0.0.1:{options.port}/ (last delivery: {options.save})")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
