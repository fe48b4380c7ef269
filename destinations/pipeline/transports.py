"""Outbound HTTP for deliveries: aiohttp on the engine's event loop, only to vetted addresses.

One `ClientSession` per engine (`delivery_client`) keeps connections per destination and lets
many calls be in flight on one thread. The SSRF guard sits in its connector's resolver
(`resolver.VettedResolver`); IP literals, which aiohttp never resolves, are checked here.
Redirects are never followed, proxies from the environment are ignored (`trust_env=False`), TLS
is verified against the URL's host name (with `DELIVERY_CA_BUNDLE` as extra trust roots, e.g. a
test CA), and at most `RESPONSE_BODY_READ_CAP` bytes of a response are read.
"""

import json
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from django.conf import settings

from destinations.pipeline.resolver import VettedResolver
from destinations.pipeline.signing import sign
from destinations.pipeline.ssrf import UnsafeDestinationError, vet_ip_literal

RESPONSE_BODY_KEEP_BYTES = 4096
# Read at most this much of a response; a smaller body is read whole so the connection is reused.
RESPONSE_BODY_READ_CAP = 64 * 1024
USER_AGENT = "backend-webhooks/1.0"
EVENT_TYPE_HEADER = "CL-X-EVENT-TYPE"


@dataclass
class HttpResult:
    """What one HTTP request produced: a status (and body), or an error."""

    status_code: int | None = None
    body: str = ""
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # names in Title-Case
    refused: bool = False  # the SSRF guard refused the address: permanent


def tls_context() -> ssl.SSLContext:
    """System trust roots, plus `DELIVERY_CA_BUNDLE` when set; host names always checked."""
    context = ssl.create_default_context()
    bundle = getattr(settings, "DELIVERY_CA_BUNDLE", "")
    if bundle:
        context.load_verify_locations(cafile=bundle)
    return context


def delivery_client(*, concurrency: int) -> aiohttp.ClientSession:
    """The engine's session (create it on the loop that uses it)."""
    connector = aiohttp.TCPConnector(
        resolver=VettedResolver(),
        ssl=tls_context(),
        limit=concurrency,
        limit_per_host=0,  # the claims cap each destination, across engines
        ttl_dns_cache=10,
    )
    return aiohttp.ClientSession(
        connector=connector,
        trust_env=False,  # no HTTP(S)_PROXY / .netrc from the environment
        auto_decompress=False,  # the kept body is what the destination sent
        timeout=aiohttp.ClientTimeout(
            total=None,
            sock_connect=settings.DELIVERY_CONNECT_TIMEOUT,
            sock_read=settings.DELIVERY_READ_TIMEOUT,
        ),
        headers={"User-Agent": USER_AGENT},
        skip_auto_headers=("Accept-Encoding",),
    )


def query_params(body: str) -> list[tuple[str, str]]:
    """GET deliveries carry the payload as query parameters; nested values as JSON text."""
    params = []
    for key, value in json.loads(body).items():
        if isinstance(value, str):
            params.append((key, value))
        else:
            params.append((key, json.dumps(value, separators=(",", ":"), ensure_ascii=False)))
    return params


def request_headers(
    *,
    method: str,
    headers: dict[str, str],
    data: bytes,
    msg_id: str,
    timestamp: int,
    signing_secrets: tuple[str, ...] | list[str],
    event_type: str,
) -> dict[str, str]:
    """The destination's headers, then the Standard Webhooks ones (which win)."""
    result = {"User-Agent": USER_AGENT}
    if method != "GET":
        result["Content-Type"] = "application/json"
    result.update(headers or {})
    result.update(
        {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(
                secrets=signing_secrets, msg_id=msg_id, timestamp=timestamp, body=data
            ),
        }
    )
    if event_type:
        result[EVENT_TYPE_HEADER] = event_type
    return result


async def send(
    session: aiohttp.ClientSession,
    *,
    method: str,
    url: str,
    headers: dict[str, str],
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
    outgoing = request_headers(
        method=method,
        headers=headers,
        data=data,
        msg_id=msg_id,
        timestamp=timestamp,
        signing_secrets=signing_secrets,
        event_type=event_type,
    )
    try:
        vet_ip_literal(urlsplit(url).hostname or "")
        async with session.request(
            method,
            url,
            params=query_params(body) if method == "GET" else None,
            data=data if method != "GET" else None,
            headers=outgoing,
            allow_redirects=False,
        ) as response:
            status, kept_headers = (
                response.status,
                {k.title(): v for k, v in response.headers.items()},
            )
            try:
                raw_body = await _read_bounded(response)
                error = ""
            except (TimeoutError, aiohttp.ClientError) as exc:
                # The status line arrived; the body did not. The status decides the outcome.
                raw_body, error = b"", f"Reading the response failed: {_describe(exc)}"
    except UnsafeDestinationError as exc:
        return HttpResult(error=str(exc), refused=True)
    except aiohttp.ConnectionTimeoutError:
        return HttpResult(error="Timed out (connect timeout).")
    except (TimeoutError, aiohttp.SocketTimeoutError):
        return HttpResult(error="Timed out (read timeout).")
    except aiohttp.ClientConnectorDNSError as exc:
        return HttpResult(error=f"The host name did not resolve (will retry): {_short(exc)}")
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return HttpResult(error=_describe(exc))
    return HttpResult(
        status_code=status,
        body=raw_body[:RESPONSE_BODY_KEEP_BYTES].decode("utf-8", errors="replace"),
        error=error,
        headers=kept_headers,
    )


async def _read_bounded(response: aiohttp.ClientResponse) -> bytes:
    """Up to `RESPONSE_BODY_READ_CAP` bytes; a longer body is cut and its connection dropped."""
    chunks: list[bytes] = []
    size = 0
    while size <= RESPONSE_BODY_READ_CAP:
        chunk = await response.content.read(RESPONSE_BODY_READ_CAP + 1 - size)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    response.close()  # the rest is never read: do not reuse this connection
    return b"".join(chunks)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_short(exc)}"


def _short(exc: BaseException) -> str:
    return str(exc)[:500]
