"""Loaded by every Python process started with this folder on PYTHONPATH: refuses network.

Any connection or name lookup beyond the loopback range raises ``NetworkBlocked``, so a
test that runs library imports or stage scripts under it proves they never reach out.
Loopback stays open because the serving stages talk to their own local servers.
"""

import ipaddress
import socket


class NetworkBlocked(RuntimeError):
    pass


_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


def _is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host is None or str(host) in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _guard_address(address) -> None:
    if isinstance(address, tuple) and address and not _is_loopback(address[0]):
        raise NetworkBlocked(f"network access blocked in tests: connect to {address!r}")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_getaddrinfo = socket.getaddrinfo


def _blocked_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _guard_address(address)
    return _connect(self, address)


def _blocked_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _guard_address(address)
    return _connect_ex(self, address)


def _blocked_getaddrinfo(host, *args, **kwargs):
    if not _is_loopback(host):
        raise NetworkBlocked(f"network access blocked in tests: name lookup of {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _blocked_connect
socket.socket.connect_ex = _blocked_connect_ex
socket.getaddrinfo = _blocked_getaddrinfo
