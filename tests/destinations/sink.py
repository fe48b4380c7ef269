"""A programmable HTTP sink on 127.0.0.1 (threaded http.server) that records what it receives.

`SinkServer.script(path, [responses])` queues responses for a path, each a dict with `status`
(default 200), `headers`, `body`, `delay` (seconds before answering), `gate` (a threading.Event:
answer only once it is set, or the server stops), or `hang: True` (accept, read the request,
never answer until the server stops). `SinkServer.default(path, response)`
answers every unscripted request to the path so. Other requests get 200 "ok".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _ListeningServer(ThreadingHTTPServer):
    # http.server listens with a backlog of 5: an engine opening dozens of connections at once
    # would see dropped SYNs (connect timeouts) that no real destination would cause.
    request_queue_size = 128


class SinkServer:
    def __init__(self):
        self.requests: list[dict] = []
        self._scripts: dict[str, list[dict]] = {}
        self._defaults: dict[str, dict] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with sink._lock:
                    path_only = self.path.split("?", 1)[0]
                    sink.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "at": time.monotonic(),
                        }
                    )
                    queue = sink._scripts.get(path_only)
                    response = queue.pop(0) if queue else sink._defaults.get(path_only, {})
                if response.get("hang"):
                    sink._stopping.wait(30)
                    return
                if response.get("gate") is not None:
                    gate = response["gate"]
                    while not gate.wait(0.1) and not sink._stopping.is_set():
                        pass
                if response.get("delay"):
                    sink._stopping.wait(response["delay"])
                payload = response.get("body", b"ok")
                if isinstance(payload, str):
                    payload = payload.encode()
                self.send_response(response.get("status", 200))
                for name, value in response.get("headers", {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self.server = _ListeningServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def default(self, path: str, response: dict) -> None:
        with self._lock:
            self._defaults[path] = response

    def script(self, path: str, responses: list[dict]) -> None:
        with self._lock:
            self._scripts.setdefault(path, []).extend(responses)

    def received(self, path: str | None = None) -> list[dict]:
        with self._lock:
            return [r for r in self.requests if path is None or r["path"].split("?")[0] == path]

    def start(self) -> SinkServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.server.shutdown()
        self.server.server_close()


def verify_signature(*, secret: str, headers: dict, body: bytes) -> bool:
    """Checks a Standard Webhooks signature the way a receiver would."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, timestamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(timestamp)) > 300:
        return False
    expected = base64.b64encode(
        hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    signatures = [s.split(",", 1)[1] for s in headers["webhook-signature"].split() if "," in s]
    return any(hmac.compare_digest(expected, s) for s in signatures)
