"""Backup and restore: a consistent copy of the database and of every photo it refers to, and the
way back into an empty deployment (`flask backup DIR`, `flask restore DIR`).

A backup directory holds `backup.json` (what it is), the database (`rounds.db`, a copy made by
SQLite's backup API, or `rounds.pgdump`, pg_dump's custom format — one snapshot either way) and
`photos/` in the local store's layout, whichever store the photos came from. Photos are copied after
the database, so every photo the copy names is there (content-addressed bytes never change).
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.pg import libpq_url, pg_tool
from app.services.storage import LocalPhotoStore, PhotoStore, validate_key

MANIFEST = "backup.json"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why (for the operator)."""


def _pg_tool(name: str) -> str:
    try:
        return pg_tool(name)
    except FileNotFoundError as exc:
        raise BackupError(str(exc)) from None


def _libpq_url(engine) -> str:
    """The engine's database as pg_dump and pg_restore read it (password included, not logged)."""
    return libpq_url(engine.url)


def _sqlite_path(engine) -> str:
    path = make_url(str(engine.url)).database
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return path


def photo_keys(conn) -> set[str]:
    """Every photo-store key the database refers to: photos, their thumbnails, signatures, floor plans."""
    keys: set[str] = set()
    for sql in ("SELECT sha256, thumb_sha256 FROM photo",
                "SELECT engineer_signature, owner_signature FROM inspection",
                "SELECT plan_key FROM layout"):
        for row in conn.execute(text(sql)):
            keys.update(k for k in row if k)
    return keys


def backup(engine, store: PhotoStore, target: Path) -> dict:
    """Write the database and its photos to `target` (a new or empty directory); returns the manifest."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new directory")
    target.mkdir(parents=True, exist_ok=True)
    backend = engine.dialect.name
    if backend == "sqlite":
        source = sqlite3.connect(_sqlite_path(engine))
        copy = sqlite3.connect(target / "rounds.db")
        try:
            with copy:
                source.backup(copy)  # one consistent snapshot, even while the app writes
        finally:
            copy.close()
            source.close()
        database = "rounds.db"
    elif backend == "postgresql":
        database = "rounds.pgdump"
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              f"--file={target / database}", _libpq_url(engine)], "pg_dump")
    else:
        raise BackupError(f"backups of {backend} databases are not supported")
    with engine.connect() as conn:  # after the dump: a superset of the photos the dump names
        keys = photo_keys(conn)
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    local = LocalPhotoStore(target / "photos")
    missing = []
    for key in sorted(keys):
        try:
            local.put(key, store.get(key))
        except KeyError:
            missing.append(key)
    manifest = {"format": FORMAT, "backend": backend, "database": database, "revision": revision,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "photos": len(keys) - len(missing), "missing_photos": missing}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def restore(engine, store: PhotoStore, source: Path) -> dict:
    """Bring a backup into an empty deployment (no users, no sites); returns the manifest."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{source} is not a Rounds backup ({MANIFEST} missing or unreadable)") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    backend = engine.dialect.name
    if manifest["backend"] != backend:
        raise BackupError(f"this backup is of a {manifest['backend']} database; the deployment uses {backend}")
    _refuse_unless_empty(engine)
    engine.dispose()  # nothing of ours holds the database while it is replaced
    if backend == "sqlite":
        copy = sqlite3.connect(source / manifest["database"])
        target = sqlite3.connect(_sqlite_path(engine))
        try:
            with target:
                copy.backup(target)
        finally:
            target.close()
            copy.close()
    else:
        # --clean drops the empty schema `flask db upgrade` may have made; the data comes from the dump.
        _run([_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
              "--exit-on-error", "--single-transaction", f"--dbname={_libpq_url(engine)}",
              str(source / manifest["database"])], "pg_restore")
    for path in sorted((source / "photos").rglob("*.jpg")):
        key = validate_key(path.stem)
        store.put(key, path.read_bytes())  # put checks the bytes are the key's (a damaged copy stops here)
    return manifest


def _refuse_unless_empty(engine) -> None:
    with engine.connect() as conn:
        has_schema = engine.dialect.has_table(conn, "user")
        if has_schema and (conn.execute(text('SELECT count(*) FROM "user"')).scalar()
                           or conn.execute(text("SELECT count(*) FROM site")).scalar()):
            raise BackupError("the database is not empty: restore into a new deployment")


def _run(args: list[str], what: str) -> None:
    done = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        # The URL (with any password) is in args: report the tool's own words only.
        raise BackupError(f"{what} failed: {done.stderr.strip()[-2000:]}")
