"""The delivery client's resolver: the SSRF guard at connect time.

aiohttp asks it for the addresses of a destination's host name when it opens a connection; it
returns only addresses that passed `ssrf.vet_addresses`, so the socket connects to what was
vetted and a DNS answer that changed since the destination was saved (DNS rebinding) cannot slip
through. TLS is still verified against the URL's host name (aiohttp sends it as SNI).

Two failures, two meanings: a name that does not resolve (right now) is an OSError, which aiohttp
turns into a connection error: retried like any network trouble (a DNS blip). A name that
resolves to a non-public address raises `UnsafeDestinationError`, which aiohttp lets through
unwrapped: a permanent refusal.

aiohttp never asks a resolver about an IP literal: `transports` checks those with
`ssrf.vet_ip_literal` before the request.
"""

import asyncio
import socket

from aiohttp.abc import AbstractResolver, ResolveResult

from destinations.pipeline.ssrf import lookup, vet_addresses


class VettedResolver(AbstractResolver):
    """Resolves in a thread (getaddrinfo blocks) and returns only vetted addresses."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = await asyncio.get_running_loop().run_in_executor(None, lookup, host, port)
        vet_addresses(host, addresses)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None
