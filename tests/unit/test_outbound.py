"""The outbound guard: internal addresses refused however they are spelt or resolved, the checked
address is the one connected to, redirects are not followed, reasons read in both languages."""
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from app.services import outbound
from app.services.outbound import AllowList, OutboundError

NONE = AllowList()


@pytest.mark.parametrize("url, address", [
    ("http://127.0.0.1:8080/hook", "127.0.0.1"),
    ("http://[::1]:22/", "::1"),
    ("http://localhost:5432/", None),  # 127.0.0.1 or ::1, whichever the resolver gives first
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ("http://2130706433/", "127.0.0.1"),  # decimal
    ("http://0x7f.1/", "127.0.0.1"),  # hex, short form
    ("http://0177.0.0.1/", "127.0.0.1"),  # octal
    ("http://127.1/", "127.0.0.1"),
    ("http://0/", "0.0.0.0"),
    ("http://0.0.0.0:5000/", "0.0.0.0"),
    ("http://[::]/", "::"),
    ("http://10.1.2.3/", "10.1.2.3"),
    ("http://172.16.0.9/", "172.16.0.9"),
    ("http://192.168.1.1./", "192.168.1.1"),
    ("http://100.64.0.1/", "100.64.0.1"),  # shared address space (carrier NAT)
    ("http://224.0.0.1/", "224.0.0.1"),
    ("http://255.255.255.255/", "255.255.255.255"),
    ("http://[::ffff:127.0.0.1]/", "127.0.0.1"),  # IPv4-mapped
    ("http://[::ffff:a9fe:a9fe]/", "169.254.169.254"),
    ("http://[fe80::1]/", "fe80::1"),
    ("http://[fd00::1]/", "fd00::1"),
    ("http://[ff02::1]/", "ff02::1"),
    ("http://[2002:7f00:1::]/", "2002:7f00:1::"),  # 6to4 wrapping 127.0.0.1
    ("http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe"),  # NAT64 wrapping the metadata address
    ("https://127.0.0.1/", "127.0.0.1"),
])
def test_internal_addresses_are_refused_in_every_spelling(url, address):
    """Loopback, private, link-local, metadata, multicast and reserved addresses: refused."""
    with pytest.raises(OutboundError) as exc:
        outbound.check(url, NONE)
    assert exc.value.code == "internal" and exc.value.permanent
    if address:
        assert exc.value.detail == address


@pytest.mark.parametrize("url, code", [
    ("ftp://example.com/", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("gopher://127.0.0.1:6379/_x", "scheme"),
    ("example.com/hook", "scheme"),
    ("http://user:pw@example.com/", "userinfo"),
    ("http://@8.8.8.8/", "userinfo"),
    ("http:///hook", "host"),
    ("http://exa mple.com/", "host"),
    ("http://example.com/\r\nX-Injected: 1", "host"),
    ("http://example.com:99999/", "port"),
    ("http://example.com:0/", "port"),
])
def test_urls_that_are_not_plain_http_addresses_are_refused(url, code):
    with pytest.raises(OutboundError) as exc:
        outbound.check(url, NONE)
    assert exc.value.code == code


def fake_dns(monkeypatch, answers):
    """getaddrinfo answering from `answers` (host → list of addresses); each call is recorded."""
    calls = []

    def getaddrinfo(host, port, *args, **kwargs):
        calls.append(host)
        result = answers[host]
        ips = result(len(calls)) if callable(result) else result
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (ip, port, 0, 0) if ":" in ip else (ip, port)) for ip in ips]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return calls


def test_a_public_name_resolving_to_a_private_address_is_refused(monkeypatch):
    """The name looks harmless; what it resolves to decides."""
    fake_dns(monkeypatch, {"hooks.example.com": ["10.0.0.7"]})
    with pytest.raises(OutboundError) as exc:
        outbound.check("https://hooks.example.com/x", NONE)
    assert (exc.value.code, exc.value.detail) == ("internal", "10.0.0.7")


def test_one_internal_address_among_public_ones_refuses_the_name(monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.216.34", "2606:4700::1111", "169.254.169.254"]})
    with pytest.raises(OutboundError):
        outbound.check("https://hooks.example.com/x", NONE)


def test_public_addresses_pass(monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.216.34", "2606:4700::1111"]})
    target = outbound.check("https://hooks.example.com:8443/a/b?key=1", NONE)
    assert (target.scheme, target.host, target.port, target.path) == ("https", "hooks.example.com", 8443,
                                                                      "/a/b?key=1")
    assert [a[1][0] for a in target.addresses] == ["93.184.216.34", "2606:4700::1111"]


def test_an_unresolvable_name_is_a_retryable_failure(monkeypatch):
    def getaddrinfo(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(OutboundError) as exc:
        outbound.check("https://nowhere.example/", NONE)
    assert exc.value.code == "unresolved" and not exc.value.permanent


def test_the_allow_list_names_hosts_and_networks():
    """`ROUNDS_WEBHOOK_ALLOW`: host names, single addresses and CIDR networks."""
    allow = AllowList.parse(" 127.0.0.1, 10.8.0.0/16 ,chat.corp.internal., [::1] ,")
    assert outbound.check("http://127.0.0.1:9/", allow).port == 9
    assert outbound.check("http://[::ffff:127.0.0.1]:9/", allow)  # the same address, IPv6-mapped
    assert outbound.check("http://[::1]:9/", allow)
    assert outbound.check("http://10.8.3.4/", allow)
    with pytest.raises(OutboundError):
        outbound.check("http://10.9.0.1/", allow)
    with pytest.raises(OutboundError):
        outbound.check("http://169.254.169.254/", allow)
    assert allow.hosts == {"chat.corp.internal"}


def test_an_allowed_host_name_may_resolve_to_a_private_address(monkeypatch):
    fake_dns(monkeypatch, {"chat.corp.internal": ["10.1.1.1"]})
    assert outbound.check("http://chat.corp.internal/", AllowList.parse("chat.corp.internal"))


class Receiver:
    """A local HTTP server: records every request; answers `status` (and `location`)."""

    def __init__(self, status=200, location=None):
        self.requests, self.status, self.location = [], status, location
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append((self.command, self.path, self.headers.get("Host"),
                                       self.rfile.read(length)))
                self.send_response(outer.status)
                if outer.location:
                    self.send_header("Location", outer.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET = handle_any

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made = []

    def make(**kwargs):
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


LOOPBACK = AllowList.parse("127.0.0.1")


def test_the_connection_goes_to_the_address_that_was_checked(monkeypatch, receivers):
    """DNS rebinding: a second answer (now internal) is never asked for; the Host header is the name."""
    target_rx = receivers()
    calls = fake_dns(monkeypatch, {"hooks.example.com": lambda n: ["127.0.0.1"] if n == 1 else ["10.0.0.1"]})
    target = outbound.check(f"http://hooks.example.com:{target_rx.port}/hook?k=1", LOOPBACK)
    assert outbound.post(target, b'{"a": 1}', {"Content-Type": "application/json"}) == 200
    assert calls == ["hooks.example.com"]
    assert target_rx.requests == [("POST", "/hook?k=1", f"hooks.example.com:{target_rx.port}", b'{"a": 1}')]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failed_delivery_and_is_not_followed(receivers, status):
    """A receiver redirecting to another local port: that port is never contacted."""
    elsewhere = receivers()
    redirecting = receivers(status=status, location=f"http://127.0.0.1:{elsewhere.port}/stolen")
    target = outbound.check(f"http://127.0.0.1:{redirecting.port}/hook", LOOPBACK)
    with pytest.raises(OutboundError) as exc:
        outbound.post(target, b"{}", {})
    assert (exc.value.code, exc.value.detail, exc.value.permanent) == ("redirect", str(status), True)
    assert len(redirecting.requests) == 1 and elsewhere.requests == []


def test_error_statuses_and_dead_ports_are_retryable_failures(receivers):
    failing = receivers(status=503)
    with pytest.raises(OutboundError) as exc:
        outbound.post(outbound.check(f"http://127.0.0.1:{failing.port}/", LOOPBACK), b"{}", {})
    assert (exc.value.code, exc.value.detail, exc.value.permanent) == ("status", "503", False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OutboundError) as exc:
        outbound.post(outbound.check(f"http://127.0.0.1:{port}/", LOOPBACK), b"{}", {})
    assert exc.value.code == "connect" and not exc.value.permanent


def test_a_receiver_that_never_answers_is_cut_off():
    """Accepts the connection, never answers: the send gives up at its deadline."""
    import time

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        target = outbound.check(f"http://127.0.0.1:{listener.getsockname()[1]}/", LOOPBACK)
        started = time.monotonic()
        with pytest.raises(OutboundError) as exc:
            outbound.post(target, b"{}", {}, timeout=0.3, total=0.6)
        assert exc.value.code == "timeout" and time.monotonic() - started < 3


@pytest.mark.parametrize("record, en, zh", [
    ("internal:127.0.0.1", "127.0.0.1 is an internal address", "127.0.0.1 是内部地址"),
    ("redirect:302", "redirect (HTTP 302)", "重定向（HTTP 302）"),
    ("status:503", "answered HTTP 503", "HTTP 503"),
    ("timeout", "did not answer in time", "未及时应答"),
    ("[Errno 111] Connection refused", "could not be delivered", "未能送达"),  # rows from before
])
def test_reasons_read_in_the_readers_language(app, record, en, zh):
    """A stored reason code is a sentence in English or Chinese, never a raw exception text."""
    from flask_babel import force_locale

    with app.test_request_context():
        with force_locale("en"):
            assert en in outbound.describe(record)
        with force_locale("zh_Hans"):
            text = outbound.describe(record)
            assert zh in text and "Errno" not in text
