"""A local stand-in for the Stripe API (127.0.0.1, free port) and webhook signing for tests."""

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl


class StripeStub:
    """Answers POST /v1/customers and /v1/checkout/sessions; records every request."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_with: int | None = None
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                stub.requests.append(
                    {"path": self.path, "form": form, "auth": self.headers.get("Authorization")}
                )
                status, body = stub.answer(self.path, form)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path: str, form: dict) -> tuple[int, dict]:
        if self.fail_with:
            return self.fail_with, {
                "error": {"type": "invalid_request_error", "message": "No such price: 'secret'"}
            }
        if path == "/v1/customers":
            return 200, {"id": "cus_test_1", "object": "customer", "email": form.get("email")}
        if path == "/v1/checkout/sessions":
            number = len([r for r in self.requests if r["path"] == path])
            session_id = f"cs_test_{number}"
            return 200, {
                "id": session_id,
                "object": "checkout.session",
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            }
        return 404, {"error": {"type": "invalid_request_error", "message": "Unknown path"}}

    def paths(self) -> list[str]:
        return [r["path"] for r in self.requests]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def sign(payload: str, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header value for `payload`, as Stripe computes it."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={signature}"
