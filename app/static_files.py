"""Static files served by WhiteNoise with content-hashed URLs, and dynamic responses gzipped.

What an operator sees:

* `url_for('static', filename='app.css')` is `/static/app.<12 hex>.css`: the hash is of the file's bytes,
  so a changed file is a new URL. Those URLs are served with `Cache-Control: public, max-age=31536000,
  immutable`; a phone fetches each asset once per version and never revalidates it. The unhashed names
  (`/static/app.css`) are still served, with a short max-age (STATIC_SHORT_MAX_AGE, 60 s).
* Static files never reach Flask (WhiteNoise answers them as WSGI middleware): no session, no
  `Set-Cookie`, no `Vary: Cookie`, so a browser, nginx or a CDN may keep them.
* Text assets have precompressed `.br` and `.gz` siblings (whitenoise.compress, brotli when the
  `brotli` package is installed), served by the client's Accept-Encoding with `Vary: Accept-Encoding`.
* HTML, JSON and JavaScript that Flask renders (pages, htmx fragments, /sw.js, the manifest) are
  gzipped when over 1 KB and the client accepts gzip (GzipMiddleware below), so `make run`'s plain
  gunicorn sends them compressed too; behind nginx they pass through as they are.

The build (hashed copies, compressed siblings) is written at startup into a directory named by the
hash of the whole static tree, under STATIC_BUILD_DIR (default instance/static-build; the environment's
ROUNDS_STATIC_BUILD_DIR, else a private temporary directory when instance/ cannot be written). It is
built in a temporary directory and renamed into place, so several gunicorn workers starting at once
never serve a half-written build: the first rename wins, the others use it. Builds of other versions
older than a day are removed. A /static URL that names no file is a bare 404 (no session). With the
app in debug mode the static tree is re-read on each page request (at most once a second) and rebuilt
when a file changed.

BREACH: pages carry a CSRF token and users' data, and are compressed anyway. The session cookie is
SameSite=Lax, so the cross-site requests an attacker can repeat by the thousand (images, scripts,
fetch) carry no session and get the login redirect, nothing secret; framing is refused (X-Frame-Options
DENY); and Flask-WTF's token is signed with a timestamp, so the string in the page changes every
second. nginx in front would gzip the same pages with `gzip on;`.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path, PurePosixPath

from flask import Flask

SHORT_MAX_AGE = 60  # seconds, for the unhashed names
IMMUTABLE = "public, max-age=31536000, immutable"
BUILD_FORMAT = "1"  # bump when the build's layout changes: a new directory, never a stale one
OLD_BUILD_SECONDS = 24 * 3600
HASH_LEN = 12
# Dynamic responses worth compressing, and the smallest body that is.
COMPRESSIBLE = ("text/html", "application/json", "text/javascript", "application/javascript",
                "application/manifest+json", "text/css", "text/plain", "image/svg+xml")
MIN_COMPRESS_BYTES = 1024
GZIP_LEVEL = 6


def hashed_name(name: str, digest: str) -> str:
    """'vendor/htmx.min.js' -> 'vendor/htmx.min.<digest>.js' (the last extension stays last)."""
    path = PurePosixPath(name)
    if path.suffix:
        return str(path.with_name(f"{path.stem}.{digest}{path.suffix}"))
    return f"{name}.{digest}"


def read_tree(source: Path) -> dict[str, bytes]:
    """Every file under `source` (not dotfiles), by its '/'-separated relative name."""
    files = {}
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            files[rel.as_posix()] = path.read_bytes()
    return files


def tree_signature(source: Path) -> tuple:
    """Cheap: names, sizes and mtimes (for debug mode's re-read)."""
    out = []
    for path in sorted(source.rglob("*")):
        if path.is_file():
            st = path.stat()
            out.append((str(path), st.st_size, st.st_mtime_ns))
    return tuple(out)


class StaticBuild:
    """The hashed names of one version of the static tree, and the directory they are served from."""

    def __init__(self, source: Path, root: Path):
        self.source = source
        self.root = root
        self.signature = tree_signature(source)
        files = read_tree(source)  # read once: the bytes hashed are the bytes written
        self.urls = {name: hashed_name(name, hashlib.sha256(data).hexdigest()[:HASH_LEN])
                     for name, data in files.items()}
        self.immutable = set(self.urls.values())
        from whitenoise.compress import brotli_installed

        fingerprint = hashlib.sha256(f"{BUILD_FORMAT} br={brotli_installed}\n".encode())
        for name in sorted(files):
            fingerprint.update(f"{name}\0{self.urls[name]}\n".encode())
        self.directory = root / fingerprint.hexdigest()[:16]
        if not self.directory.is_dir():
            self._write(files)
        self._prune()

    def _write(self, files: dict[str, bytes]) -> None:
        from whitenoise.compress import Compressor

        self.root.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=self.root))
        try:
            compressor = Compressor(quiet=True)
            for name, data in files.items():
                hashed = tmp / self.urls[name]
                plain = tmp / name
                hashed.parent.mkdir(parents=True, exist_ok=True)
                hashed.write_bytes(data)
                plain.write_bytes(data)
                if compressor.should_compress(name):
                    for variant in compressor.compress(str(hashed)):  # writes .br and .gz beside it
                        shutil.copyfile(variant, str(plain) + variant[len(str(hashed)):])
            os.chmod(tmp, 0o755)
            try:
                os.rename(tmp, self.directory)  # atomic: a worker sees no build or a whole one
            except OSError:
                if not self.directory.is_dir():
                    raise
                # Another worker renamed the same build into place first: use theirs.
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _prune(self) -> None:
        """Drop other versions' builds (and abandoned temporary ones) over a day old: a worker of the
        previous release may still serve from its build during a restart."""
        now = time.time()
        for entry in self.root.iterdir():
            try:
                if entry != self.directory and now - entry.stat().st_mtime > OLD_BUILD_SECONDS:
                    shutil.rmtree(entry, ignore_errors=True)
            except OSError:
                pass


def build_root(app: Flask) -> Path:
    """Where builds go: STATIC_BUILD_DIR, ROUNDS_STATIC_BUILD_DIR, instance/static-build, else a temp dir."""
    configured = app.config.get("STATIC_BUILD_DIR") or os.environ.get("ROUNDS_STATIC_BUILD_DIR")
    if configured:
        return Path(configured)
    root = Path(app.root_path).parent / "instance" / "static-build"
    try:
        root.mkdir(parents=True, exist_ok=True)
        if os.access(root, os.W_OK):
            return root
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="rounds-static-"))


def setup_static(app: Flask) -> None:
    """WhiteNoise in front of the app for /static, hashed names for url_for('static'), gzip for the rest."""
    from whitenoise import WhiteNoise
    from whitenoise.string_utils import decode_path_info

    short_max_age = int(app.config.get("STATIC_SHORT_MAX_AGE", SHORT_MAX_AGE))
    state = {"build": StaticBuild(Path(app.static_folder), build_root(app)), "checked": time.monotonic()}
    lock = threading.Lock()
    prefix = app.static_url_path.rstrip("/") + "/"

    def headers(headers, path, url):
        headers["X-Content-Type-Options"] = "nosniff"
        if url[len(prefix):] in state["build"].immutable:
            headers["Cache-Control"] = IMMUTABLE

    class StaticOnly(WhiteNoise):
        """A /static URL that names no file is a bare 404 here, not Flask's page with a session cookie
        (an old release's hashed URL after a deploy, a typo)."""

        def __call__(self, environ, start_response):
            path = decode_path_info(environ.get("PATH_INFO", ""))
            if path.startswith(prefix) and self.files.get(path) is None:
                start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8"),
                                                 ("Cache-Control", "no-store"), ("Content-Length", "10")])
                return [b"Not found\n"]
            return super().__call__(environ, start_response)

    def whitenoise(application, directory):
        return StaticOnly(application, root=directory, prefix=prefix, max_age=short_max_age,
                          allow_all_origins=False, add_headers_function=headers)

    static = whitenoise(GzipMiddleware(app.wsgi_app), state["build"].directory)
    app.wsgi_app = static
    app.extensions["static_build"] = state

    @app.url_defaults
    def hashed_static(endpoint: str, values: dict) -> None:
        """url_for('static', filename='app.css') -> /static/app.<hash>.css (unknown names stay as they are)."""
        if endpoint == "static":
            hashed = state["build"].urls.get(values.get("filename"))
            if hashed:
                values["filename"] = hashed

    @app.before_request
    def rebuild_in_debug() -> None:
        """Debug mode only: an edited asset is a new build (and URL) on the next page, without a restart."""
        if not app.debug or time.monotonic() - state["checked"] < 1.0:
            return
        with lock:
            state["checked"] = time.monotonic()
            build = state["build"]
            if tree_signature(build.source) != build.signature:
                state["build"] = build = StaticBuild(build.source, build.root)
                static.files = whitenoise(None, build.directory).files  # swapped whole, never half


def _accepts_gzip(header: str) -> bool:
    for part in header.lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() in ("gzip", "*"):
            q = params.strip()
            try:
                return not (q.startswith("q=") and float(q[2:] or 0) == 0)
            except ValueError:  # a malformed q: as if it was not there
                return True
    return False


class GzipMiddleware:
    """Gzip (level 6) Flask's HTML, JSON and JavaScript responses over 1 KB for clients that accept it.

    Only responses with a Content-Length (a streamed CSV export passes untouched) and no Content-Encoding
    already; `Vary: Accept-Encoding` on every compressible response, compressed or not, so a cache keeps
    the two apart."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        accepts = (environ.get("REQUEST_METHOD") != "HEAD"
                   and _accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", "")))
        deferred = {}

        def capture(status, headers, exc_info=None):
            names = {k.lower(): v for k, v in headers}
            mimetype = names.get("content-type", "").split(";")[0].strip().lower()
            if mimetype not in COMPRESSIBLE or "content-encoding" in names:
                return start_response(status, headers, exc_info)
            headers = _add_vary(headers)
            length = names.get("content-length")
            if not accepts or length is None or int(length) < MIN_COMPRESS_BYTES or status[:3] in ("204", "304"):
                return start_response(status, headers, exc_info)
            deferred.update(status=status, headers=headers, exc_info=exc_info, chunks=[])
            return deferred["chunks"].append

        body = self.app(environ, capture)
        if not deferred:
            return body
        try:
            chunks = deferred["chunks"] + [chunk for chunk in body]
        finally:
            if hasattr(body, "close"):
                body.close()
        data = gzip.compress(b"".join(chunks), compresslevel=GZIP_LEVEL, mtime=0)
        headers = [(k, v) for k, v in deferred["headers"] if k.lower() not in ("content-length", "etag")]
        etag = next((v for k, v in deferred["headers"] if k.lower() == "etag"), None)
        if etag:  # the compressed body is other bytes: its own (weak) validator
            headers.append(("ETag", etag if etag.startswith("W/") else "W/" + etag))
        headers += [("Content-Encoding", "gzip"), ("Content-Length", str(len(data)))]
        start_response(deferred["status"], headers, deferred["exc_info"])
        return [data]


def _add_vary(headers: list) -> list:
    for i, (key, value) in enumerate(headers):
        if key.lower() == "vary":
            if "accept-encoding" not in value.lower():
                headers = list(headers)
                headers[i] = (key, f"{value}, Accept-Encoding")
            return headers
    return list(headers) + [("Vary", "Accept-Encoding")]
