"""Privacy of tracked data: client addresses truncated before anything is stored.

``[collector] ip_mode`` decides what is kept of a client's address: ``truncate`` (the default) keeps the
network, not the host (IPv4: the last byte zeroed, ``203.0.113.57`` -> ``203.0.113.0``; IPv6: only the first
48 bits, ``2001:db8:85a3:8d3:1319:8a2e:370:7348`` -> ``2001:db8:85a3::``), ``drop`` keeps nothing, ``full``
keeps it whole. The full address is used only in memory, for the bot rate limit, and never written.

Deleting a person's data and old raw events: :func:`trueroi.tracking.store.forget_user` and
:func:`trueroi.tracking.store.apply_retention`.
"""

from __future__ import annotations

import ipaddress

IPV4_KEEP = 24  # bits of an IPv4 address kept by "truncate"
IPV6_KEEP = 48


def stored_ip(address: str | None, mode: str) -> str | None:
    """What is stored of ``address`` under ``ip_mode`` ``mode`` (None for no or an unreadable address)."""
    if not address or mode == "drop":
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if mode == "full":
        return str(ip)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    keep = IPV4_KEEP if ip.version == 4 else IPV6_KEEP
    return str(ipaddress.ip_network(f"{ip}/{keep}", strict=False).network_address)
