"""Outbound HTTP for deliveries: a pooled session whose connections only reach vetted addresses.

The SSRF check runs inside the connection (`_new_conn`): the name is resolved, every address is
checked, and the socket connects to the vetted address while TLS SNI and the Host header keep the
original name. So what was checked is what is connected to, even if DNS changes between checks.
Redirects are never followed and proxies from the environment are ignored.
"""

import json
import threading
from dataclasses import dataclass

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3 import connection as urllib3_connection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as connection_util

from destinations.pipeline.signing import sign
from destinations.pipeline.ssrf import UnsafeDestinationError, resolve_safe_address

RESPONSE_BODY_KEEP_BYTES = 4096
# Read at most this much of a response; a smaller body is read whole so the connection is reused.
RESPONSE_BODY_READ_CAP = 64 * 1024
USER_AGENT = "backend-webhooks/1.0"
EVENT_TYPE_HEADER = "CL-X-EVENT-TYPE"


class _VettedConnectionMixin:
    def _new_conn(self):
        address = resolve_safe_address(self._dns_host, self.port)
        try:
            return connection_util.create_connection(
                (address, self.port),
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc


class VettedHTTPConnection(_VettedConnectionMixin, urllib3_connection.HTTPConnection):
    """Plain HTTP connection to a vetted address."""


class VettedHTTPSConnection(_VettedConnectionMixin, urllib3_connection.HTTPSConnection):
    """TLS connection to a vetted address (SNI and certificate checked against the host name)."""


class VettedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = VettedHTTPConnection


class VettedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = VettedHTTPSConnection


class VettedAdapter(HTTPAdapter):
    """requests adapter whose pools use the vetted connections."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": VettedHTTPConnectionPool,
            "https": VettedHTTPSConnectionPool,
        }

    def proxy_manager_for(self, proxy, **proxy_kwargs):  # pragma: no cover - never used
        raise UnsafeDestinationError("Proxies are not used for deliveries.")


_local = threading.local()


def delivery_session() -> requests.Session:
    """One session per worker process (and thread), so connections to a destination are reused."""
    session = getattr(_local, "session", None)
    if session is None:
        session = requests.Session()
        session.trust_env = False  # no HTTP(S)_PROXY / .netrc from the environment
        adapter = VettedAdapter(pool_connections=32, pool_maxsize=8, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _local.session = session
    return session


def query_params(body: str) -> list[tuple[str, str]]:
    """GET deliveries carry the payload as query parameters; nested values as JSON text."""
    params = []
    for key, value in json.loads(body).items():
        if isinstance(value, str):
            params.append((key, value))
        else:
            params.append((key, json.dumps(value, separators=(",", ":"), ensure_ascii=False)))
    return params


@dataclass
class HttpResult:
    """What one HTTP request produced: a status (and body), or an error."""

    status_code: int | None = None
    body: str = ""
    error: str = ""
    headers: dict | None = None
    refused: bool = False  # the SSRF guard refused the address: permanent


def send(
    *,
    method: str,
    url: str,
    headers: dict,
    body: str,
    msg_id: str,
    timestamp: int,
    signing_secrets: tuple[str, ...] | list[str],
    event_type: str = "",
) -> HttpResult:
    """Sends one signed delivery of `body` (the JSON text as ingested, byte for byte).

    Never raises for network trouble: it is returned as `error`.
    """
    data = b"" if method == "GET" else body.encode("utf-8")
    request_headers = {"User-Agent": USER_AGENT}
    if method != "GET":
        request_headers["Content-Type"] = "application/json"
    request_headers.update(headers or {})
    signatures = sign(secrets=signing_secrets, msg_id=msg_id, timestamp=timestamp, body=data)
    request_headers.update(
        {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures,
        }
    )
    if event_type:
        request_headers[EVENT_TYPE_HEADER] = event_type
    try:
        response = delivery_session().request(
            method,
            url,
            params=query_params(body) if method == "GET" else None,
            data=data if method != "GET" else None,
            headers=request_headers,
            timeout=(settings.DELIVERY_CONNECT_TIMEOUT, settings.DELIVERY_READ_TIMEOUT),
            allow_redirects=False,
            stream=True,
        )
    except UnsafeDestinationError as exc:
        return HttpResult(error=str(exc), refused=True)
    except requests.Timeout as exc:
        kind = "connect" if isinstance(exc, requests.ConnectTimeout) else "read"
        return HttpResult(error=f"Timed out ({kind} timeout).")
    except requests.RequestException as exc:
        return HttpResult(error=f"{type(exc).__name__}: {_short(exc)}")
    try:
        chunks, size = [], 0
        for chunk in response.iter_content(8192):
            chunks.append(chunk)
            size += len(chunk)
            if size > RESPONSE_BODY_READ_CAP:
                break
        raw_body = b"".join(chunks)[:RESPONSE_BODY_KEEP_BYTES]
    except requests.RequestException as exc:
        # The status line arrived; the body did not. The status decides the outcome.
        raw_body = b""
        error = f"Reading the response failed: {_short(exc)}"
    else:
        error = ""
    finally:
        response.close()
    return HttpResult(
        status_code=response.status_code,
        body=raw_body.decode("utf-8", errors="replace"),
        error=error,
        headers=dict(response.headers),
    )


def _short(exc: Exception) -> str:
    return str(exc)[:500]
