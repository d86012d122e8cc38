"""Where a webhook may send: public addresses only, checked at save and again at every send.

A hook's URL is typed by an admin but resolved by DNS that someone else controls, so the send
resolves the name once, checks EVERY address it got, and connects to the address it checked (the
HTTP connection is pinned to it, while the Host header, TLS SNI and certificate check keep the
name): a second lookup that answers 127.0.0.1 (DNS rebinding) is never made.

An address is public when it is in none of the ranges listed here (IANA's special-purpose
registries, copied so a Python upgrade cannot widen them: `ipaddress.is_global` answered True for
``::127.0.0.1`` and ``fec0::1`` on 3.11) and `ipaddress` calls it global too. An IPv6 address must
be global unicast (``2000::/3``); one that carries an IPv4 address (IPv4-mapped ``::ffff:0:0/96``,
IPv4-translated ``::ffff:0:0:0/96``, IPv4-compatible ``::/96``, 6to4 ``2002::/16``, NAT64
``64:ff9b::/96``) is judged by that IPv4 address. That refuses loopback, private ranges,
link-local (the cloud metadata address 169.254.169.254), CGNAT 100.64/10, 0.0.0.0/8,
documentation, benchmarking, multicast and reserved ranges, ``[::1]``, ``fc00::/7``, ``fe80::/10``,
site-local ``fec0::/10`` and local-use NAT64 ``64:ff9b:1::/48``. Names that are local by definition (one label,
``localhost``, ``.local``, ``.internal`` such as ``metadata.google.internal``, ``.home.arpa``) are
refused before any lookup.

PARLEY_WEBHOOK_ALLOWED_HOSTS names the exceptions (development, tests, an internal pipeline on
purpose): a host name allows that name, an address or network (``127.0.0.1``, ``10.1.0.0/16``)
allows the addresses in it.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".localdomain")
_N = ipaddress.ip_network
# IPv4 ranges a webhook never reaches: IANA IPv4 Special-Purpose Address Registry (every entry,
# globally reachable or not: none is a place for a webhook), multicast and reserved.
_IPV4_REFUSED = tuple(_N(net) for net in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.0.2.0/24", "192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24", "192.168.0.0/16",
    "192.175.48.0/24", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"))
# IPv6: only global unicast, less what the IANA IPv6 Special-Purpose Address Registry carves out of it.
_IPV6_GLOBAL_UNICAST = _N("2000::/3")
_IPV6_REFUSED = tuple(_N(net) for net in (
    "2001::/23",  # IETF protocol assignments: Teredo, benchmarking, ORCHID, AMT, ...
    "2001:db8::/32", "3fff::/20",  # documentation
    "2620:4f:8000::/48",  # AS112-v6 (DNS sink)
))
# IPv6 forms whose last 32 bits are an IPv4 address the packet goes to (or that a stack treats
# as one): IPv4-mapped, IPv4-translated (RFC 2765), IPv4-compatible (deprecated), NAT64 (RFC 6052).
_CARRIES_IPV4 = tuple(_N(net) for net in ("::ffff:0:0/96", "::ffff:0:0:0/96", "::/96", "64:ff9b::/96"))


class DestinationRefused(Exception):
    """The URL's host is, or resolves to, an address a webhook may not reach. The message is for
    the log and the admin who typed the URL; a delivery's stored outcome never carries it."""


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the connection goes to


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # a zone id (fe80::1%eth0) is link-local anyway
    if ip.version == 6:
        if any(ip in net for net in _CARRIES_IPV4):
            return address_is_public(str(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)))
        if ip.sixtofour is not None:
            return address_is_public(str(ip.sixtofour))
        if ip not in _IPV6_GLOBAL_UNICAST or any(ip in net for net in _IPV6_REFUSED):
            return False
    elif any(ip in net for net in _IPV4_REFUSED):
        return False
    return ip.is_global and not ip.is_multicast


def _allowed_entries():
    names, networks = set(), []
    for entry in getattr(settings, "PARLEY_WEBHOOK_ALLOWED_HOSTS", ()):
        entry = entry.strip().lower().strip("[]")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry.rstrip("."))
    return names, networks


def _address_allowed(address: str, networks) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return any(ip.version == net.version and ip in net for net in networks)


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (an IP literal resolves to itself). The one lookup."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _split(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DestinationRefused(f"{url!r} is not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("a webhook URL carries no user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise DestinationRefused(f"{url!r} has an invalid port") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname.lower().rstrip("."), port, path


def _literal(host: str):
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _name_is_local(host: str) -> bool:
    return "." not in host or host == "localhost" or host.endswith(_LOCAL_SUFFIXES)


def destination_check(url: str, *, resolve_name: bool) -> Destination | None:
    """The checked destination of `url`, or DestinationRefused saying why.

    With `resolve_name` (a send) the name is resolved and a failed lookup is refused; without it
    (a save) a name that does not resolve now is let through, to be checked when it is used."""
    scheme, host, port, path = _split(url)
    allowed_names, allowed_networks = _allowed_entries()
    name_allowed = host in allowed_names
    if not name_allowed and _literal(host) is None and _name_is_local(host):
        raise DestinationRefused(f"{host} is a local host name; webhooks reach public hosts only")
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        if resolve_name:
            raise DestinationRefused(f"{host} does not resolve: {exc}") from None
        return None
    if not addresses:
        raise DestinationRefused(f"{host} resolves to no address")
    if not name_allowed:
        refused = [a for a in addresses if not address_is_public(a) and not _address_allowed(a, allowed_networks)]
        if refused:
            raise DestinationRefused(f"{host} resolves to {', '.join(refused)}, not a public address; "
                                     "webhooks reach public hosts only (PARLEY_WEBHOOK_ALLOWED_HOSTS lists exceptions)")
    return Destination(scheme=scheme, host=host, port=port, path=path, address=addresses[0])


def pinned_connection(destination: Destination, *, timeout: float) -> http.client.HTTPConnection:
    """An HTTP(S) connection to the checked address that still speaks to the name (Host, SNI, certificate)."""
    if destination.scheme == "https":
        import ssl

        connection = http.client.HTTPSConnection(destination.host, destination.port, timeout=timeout,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(destination.host, destination.port, timeout=timeout)
    address = destination.address

    def connect_to_checked_address(host_and_port, timeout=None, source_address=None):
        return socket.create_connection((address, host_and_port[1]), timeout, source_address)

    connection._create_connection = connect_to_checked_address
    return connection
