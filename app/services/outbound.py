"""Outbound HTTP to addresses that users type (team webhooks): public addresses only, pinned, no redirects.

A URL a manager saves could point the server at itself, the office network or the cloud's metadata
service (a blind SSRF). So every URL is checked where it is saved *and* when a message goes out:
http or https, no user name or password, a host; every address the host resolves to must be public
(loopback, private, link-local, shared 100.64/10, multicast, reserved and unspecified addresses are
refused, also inside IPv4-mapped, 6to4 and NAT64 IPv6 addresses; odd spellings such as
`http://2130706433/` or `http://0x7f.1/` resolve to what they mean and are judged by that). The
connection then goes to the address that was checked, not to a second DNS answer, and a redirect is a
failed delivery, never followed. `ROUNDS_WEBHOOK_ALLOW` names hosts and networks that may be reached
anyway (the tests' loopback receiver, a private deployment's chat server).

Written on the standard library: the maintained SSRF packages wrap httpx or requests (neither is a
dependency here) and are young single-author projects; `advocate` is unmaintained.
"""
import http.client
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask_babel import gettext as _

CONNECT_TIMEOUT = 5  # seconds per socket operation
TOTAL_TIMEOUT = 10  # seconds for the whole exchange, however slowly a receiver drips its answer
MAX_BODY_READ = 4096  # bytes of a receiver's answer read at most (it is not used)

SHARED_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
NAT64 = ipaddress.ip_network("64:ff9b::/96")
PERMANENT = {"scheme", "userinfo", "host", "port", "internal", "redirect"}


class OutboundError(Exception):
    """A message that could not go out: a reason code (see `describe`) and a detail (an address, a status)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}:{detail}" if detail else code)
        self.code, self.detail = code, detail

    @property
    def permanent(self) -> bool:
        """True when trying again cannot help (the address is refused, or the receiver redirects)."""
        return self.code in PERMANENT

    def record(self) -> str:
        """The form stored in a delivery's `last_error`: `code` or `code:detail`."""
        return str(self)[:500]


@dataclass(frozen=True)
class Target:
    """A vetted URL: where to connect (the checked addresses) and what to ask for."""

    scheme: str
    host: str  # as typed (for the Host header and TLS), lower case, IDNA-encoded
    port: int
    path: str  # path and query
    addresses: tuple[tuple[int, tuple], ...]  # (family, sockaddr) from getaddrinfo, all checked


@dataclass(frozen=True)
class AllowList:
    """Host names and networks that may be reached although they are not public."""

    hosts: frozenset[str] = frozenset()
    networks: tuple = ()

    @classmethod
    def parse(cls, text: str | None) -> "AllowList":
        """From `ROUNDS_WEBHOOK_ALLOW`: comma-separated host names, addresses and CIDR networks."""
        hosts, networks = set(), []
        for entry in (text or "").split(","):
            entry = entry.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry)
        return cls(frozenset(hosts), tuple(networks))

    def covers(self, ip) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


def configured_allow_list() -> AllowList:
    """The app's `WEBHOOK_ALLOW` setting (empty outside an app context)."""
    from flask import current_app, has_app_context

    return AllowList.parse(current_app.config.get("WEBHOOK_ALLOW", "") if has_app_context() else "")


def is_public(ip) -> bool:
    """True for an address on the public internet; embedded IPv4 addresses are judged too."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None)
        if embedded is not None and not is_public(embedded):
            return False
        if ip.teredo:
            return False
    if ip.version == 4 and ip in SHARED_SPACE:
        return False
    return ip.is_global and not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                                 or ip.is_reserved or ip.is_unspecified)


def _embedded(ip):
    """The IPv4 address inside an IPv4-mapped IPv6 address, else the address itself."""
    return ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else ip


def parse(url: str) -> tuple[str, str, int, str]:
    """Scheme, host, port and path of an http(s) URL, or OutboundError for anything else."""
    url = (url or "").strip()
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise OutboundError("host")  # spaces, CR/LF, tabs: never part of a usable address
    try:
        parts = urlsplit(url)
    except ValueError:
        raise OutboundError("host") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundError("scheme")
    if "@" in parts.netloc:
        raise OutboundError("userinfo")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OutboundError("host")
    try:
        port = parts.port if parts.port is not None else (443 if scheme == "https" else 80)
    except ValueError:
        raise OutboundError("port") from None
    if port == 0:
        raise OutboundError("port")
    try:
        host = host.encode("idna").decode("ascii").lower() if not host.isascii() else host.lower()
    except UnicodeError:
        raise OutboundError("host") from None
    if not all(c.isalnum() or c in "-._:" for c in host):
        raise OutboundError("host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port, path


def check(url: str, allow: AllowList | None = None) -> Target:
    """Parse and resolve a URL; refuse it unless every address it resolves to may be reached."""
    allow = allow if allow is not None else configured_allow_list()
    scheme, host, port, path = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError):
        raise OutboundError("unresolved", host) from None
    addresses = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        ip = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if not (host in allow.hosts or allow.covers(_embedded(ip)) or allow.covers(ip) or is_public(ip)):
            raise OutboundError("internal", str(_embedded(ip)))
        addresses.append((family, sockaddr))
    if not addresses:
        raise OutboundError("unresolved", host)
    return Target(scheme, host, port, path, tuple(dict.fromkeys(addresses)))


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to one already-checked address, whatever DNS says now."""

    def __init__(self, target: Target, sockaddr: tuple, family: int, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._pinned = (family, sockaddr)

    def _open(self) -> socket.socket:
        family, sockaddr = self._pinned
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(sockaddr)
        except BaseException:
            sock.close()
            raise
        return sock

    def connect(self):
        self.sock = self._open()


class _PinnedHTTPS(_PinnedHTTP):
    """HTTPS to a checked address; the certificate is verified against the host name typed."""

    context = ssl.create_default_context()

    def connect(self):
        self.sock = self.context.wrap_socket(self._open(), server_hostname=self.host)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float = CONNECT_TIMEOUT,
         total: float = TOTAL_TIMEOUT) -> int:
    """POST to a vetted target; the 2xx status, or OutboundError (a 3xx is one: never followed)."""
    cls = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    last = OutboundError("connect")
    for family, sockaddr in target.addresses:
        conn = cls(target, sockaddr, family, timeout)
        try:
            conn.connect()
        except TimeoutError:
            last = OutboundError("timeout")
            conn.close()
            continue
        except ssl.SSLError:
            conn.close()
            raise OutboundError("tls") from None
        except OSError:
            last = OutboundError("connect")
            conn.close()
            continue
        # The whole exchange has a deadline: a receiver dripping bytes cannot hold the sender.
        timer = threading.Timer(total, _shutdown, args=(conn,))
        timer.start()
        try:
            conn.request("POST", target.path, body=body, headers=headers)
            resp = conn.getresponse()
            resp.read(MAX_BODY_READ)
            status = resp.status
        except TimeoutError:
            raise OutboundError("timeout") from None
        except ssl.SSLError:
            raise OutboundError("tls") from None
        except (OSError, ValueError, http.client.HTTPException):
            raise OutboundError("timeout" if not timer.is_alive() else "connect") from None
        finally:
            timer.cancel()
            conn.close()
        if 300 <= status < 400:
            raise OutboundError("redirect", str(status))
        if not 200 <= status < 300:
            raise OutboundError("status", str(status))
        return status
    raise last


def _shutdown(conn: http.client.HTTPConnection) -> None:
    """Cut a connection that ran past its deadline (the blocked read then fails)."""
    try:
        if conn.sock is not None:
            conn.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def describe(record: str) -> str:
    """A stored reason (`code` or `code:detail`) as a sentence in the reader's language."""
    code, _sep, detail = (record or "").partition(":")
    texts = {
        "scheme": lambda: _("Enter an http(s) address."),
        "userinfo": lambda: _("The address must not contain a user name or password."),
        "host": lambda: _("This is not a usable web address."),
        "port": lambda: _("The port number in the address is not valid."),
        "internal": lambda: _("%(address)s is an internal address (this server, a private network or a "
                              "cloud metadata service). Webhooks go only to public addresses.",
                              address=detail),
        "unresolved": lambda: _("The host name %(host)s could not be found.", host=detail),
        "redirect": lambda: _("The receiver answered with a redirect (HTTP %(status)s); redirects are "
                              "not followed.", status=detail),
        "status": lambda: _("The receiver answered HTTP %(status)s.", status=detail),
        "timeout": lambda: _("The receiver did not answer in time."),
        "connect": lambda: _("Could not connect to the receiver."),
        "tls": lambda: _("The receiver's secure connection (TLS) could not be verified."),
    }
    return texts[code]() if code in texts else _("The message could not be delivered.")
