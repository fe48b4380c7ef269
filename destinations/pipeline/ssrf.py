"""SSRF guard for destination URLs (SPEC 7).

Two checks share one rule set:
- `validate_destination_url(url)` at create/update: scheme, URL shape, host form, and every address
  the host resolves to must be public.
- `vet_addresses(host, addresses)` at delivery time, called by the delivery client's resolver
  (destinations/pipeline/resolver.py) when it connects, so the socket connects to the very address
  that was vetted and a DNS answer that changed since creation (DNS rebinding) cannot slip through.
  `vet_ip_literal(host)` checks a URL whose host is an address (no resolver runs for those).

`DESTINATION_ALLOWED_HOSTS` (hostnames or IPs) exempts hosts, e.g. a local sink in tests.
`DELIVERY_HOSTS_FILE` (tests): a JSON file {host: [addresses]} consulted before DNS, so tests
control resolution in-process (an empty list: the name does not resolve) and no lookup leaves
the machine.
"""

import ipaddress
import json
import re
import socket
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

ALLOWED_SCHEMES = ("http", "https")
MAX_URL_LENGTH = 2048

# 100.64.0.0/10 (carrier-grade NAT) is neither private nor global in older Pythons: name it.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# A host made only of digits, dots and hex markers: an IPv4 literal in some form.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+))*\.?$", re.IGNORECASE)
_CANONICAL_IPV4 = re.compile(
    r"^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$"
)
_HOSTNAME = re.compile(
    r"^(?=.{1,253}\.?$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?$",
    re.IGNORECASE,
)


class UnsafeDestinationError(Exception):
    """The URL or the address it resolves to is not allowed as a delivery target.

    Deliberately not an OSError: urllib3 and requests let it through unwrapped, so the delivery
    code can tell a refused address (permanent) from a network error (retryable).
    """


# Every refusal says how a developer allows a local sink (the README's quickstart does).
LOCAL_HINT = "this is not allowed (for local development: DESTINATION_ALLOWED_HOSTS="


def _allowed_hosts() -> set[str]:
    return {h.strip().lower().strip("[]") for h in settings.DESTINATION_ALLOWED_HOSTS if h.strip()}


def address_refusal_reason(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why the address is not a public unicast one (None when it is)."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip.teredo:
            embedded = ip.teredo[1]
        if embedded is not None:
            reason = address_refusal_reason(embedded)
            return f"an IPv6 address embedding {reason}" if reason else None
    checks = (
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_private", "a private address"),
        ("is_reserved", "a reserved address"),
    )
    for attribute, reason in checks:
        if getattr(ip, attribute):
            return reason
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address"
    if not ip.is_global:
        return "a non-public address"
    return None


def hosts_file_addresses(host: str) -> list[str] | None:
    """The addresses `DELIVERY_HOSTS_FILE` gives `host` (None: not listed, ask DNS)."""
    path = getattr(settings, "DELIVERY_HOSTS_FILE", "")
    if not path:
        return None
    try:
        table = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    entry = table.get(host.strip("[]").lower())
    return None if entry is None else [str(address) for address in entry]


def lookup(host: str, port: int) -> list[str]:
    """Every address of `host` (hosts file first, then DNS); socket.gaierror when none."""
    bare = host.strip("[]").lower()
    listed = hosts_file_addresses(bare)
    if listed is not None:
        if not listed:
            raise socket.gaierror(socket.EAI_NONAME, f"{bare} is listed without addresses")
        return listed
    infos = socket.getaddrinfo(bare, port, type=socket.SOCK_STREAM)
    # sockaddr[0] is the address text for AF_INET and AF_INET6 (the only families asked for).
    return [str(info[4][0]) for info in infos]


def vet_ip_literal(host: str) -> None:
    """Refuses a URL host written as a non-public IP address (unless allowed); names pass."""
    bare = host.strip("[]").lower()
    try:
        ip = ipaddress.ip_address(bare.split("%", 1)[0])
    except ValueError:
        return
    if bare in _allowed_hosts() or str(ip) in _allowed_hosts():
        return
    reason = address_refusal_reason(ip)
    if reason:
        raise UnsafeDestinationError(f"The URL points to {reason}; deliveries there are refused.")


def vet_addresses(host: str, addresses: list[str]) -> None:
    """Refuses the host when any of its addresses is not public (a host that mixes public and
    private answers is refused as a whole); allowed hosts and addresses pass."""
    bare = host.strip("[]").lower()
    allowed = _allowed_hosts()
    if bare in allowed:
        return
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if address in allowed or str(ip) in allowed:
            continue
        reason = address_refusal_reason(ip)
        if reason:
            raise UnsafeDestinationError(
                f"The host {bare!r} resolves to {reason}; {LOCAL_HINT}{bare})."
            )


def resolve_safe_address(host: str, port: int) -> str:
    """The first address of `host`, after checking that every address is public (URL checks).

    Raises UnsafeDestinationError when any resolved address is refused or when the name does not
    resolve (at create time that is the user's mistake; at delivery time the resolver treats a
    failed lookup as a network error instead).
    """
    bare = host.strip("[]").lower()
    try:
        addresses = lookup(bare, port)
    except (OSError, UnicodeError) as exc:
        raise UnsafeDestinationError(f"The host {bare!r} does not resolve.") from exc
    if not addresses:
        raise UnsafeDestinationError(f"The host {bare!r} does not resolve.")
    vet_addresses(bare, addresses)
    return addresses[0]


def validate_destination_url(url: str) -> None:
    """Raises UnsafeDestinationError with a human message when `url` may not be a destination."""
    if not isinstance(url, str) or not url:
        raise UnsafeDestinationError("Enter a URL.")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeDestinationError(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url) or "\\" in url:
        raise UnsafeDestinationError(
            "The URL contains whitespace, control characters or backslashes."
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeDestinationError("The URL is malformed.") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise UnsafeDestinationError("Only http and https URLs are allowed.")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise UnsafeDestinationError("URLs with user information (user@host) are not allowed.")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeDestinationError("The URL has no host.")
    port = port or (443 if scheme == "https" else 80)

    is_ip_literal = False
    try:
        ipaddress.ip_address(host)
        is_ip_literal = True
    except ValueError:
        pass
    if not is_ip_literal:
        # 2130706433, 0x7f000001, 0177.0.0.1, 127.1: resolvers read these as IPv4 addresses,
        # so they are refused outright rather than trusted to resolve harmlessly.
        if _NUMERIC_HOST.match(host):
            raise UnsafeDestinationError("IP addresses must be written in standard dotted form.")
        if not _HOSTNAME.match(host):
            raise UnsafeDestinationError("The URL's host is not a valid hostname.")
    elif ":" not in host and not _CANONICAL_IPV4.match(host):
        raise UnsafeDestinationError("IP addresses must be written in standard dotted form.")

    if host in _allowed_hosts():
        return
    if is_ip_literal:
        reason = address_refusal_reason(ipaddress.ip_address(host))
        if reason:
            raise UnsafeDestinationError(f"The URL points to {reason}; {LOCAL_HINT}{host}).")
        return
    resolve_safe_address(host, port)
