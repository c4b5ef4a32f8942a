"""Name resolution for web push: a subscription's host must not lead inside the network.

The endpoint's host was checked as written when the browser subscribed
(core.notifications.push), but a public name can resolve (or later re-resolve) to a
private address. The sender's connections resolve through `PublicResolver`, which refuses
any answer holding a loopback, private, link-local or otherwise non-global address, at
the moment of connecting, so there is no window between the check and the use.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver


class PrivateAddress(OSError):
    """The push service's host resolved to an address the shop must not reach."""


class PublicResolver(AbstractResolver):
    def __init__(self, allow_local: bool = False) -> None:
        self.inner, self.allow_local = ThreadedResolver(), allow_local

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        if not self.allow_local and any(
                not ipaddress.ip_address(item["host"]).is_global for item in found):
            raise PrivateAddress(f"{host} resolves to a non-public address")
        return found

    async def close(self) -> None:
        await self.inner.close()
