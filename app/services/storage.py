"""Content-addressed photo storage: bytes are stored under the SHA-256 of their content."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol, runtime_checkable

# fullmatch, not match-with-$: "$" also matches before a trailing newline.
_KEY = re.compile(r"[0-9a-f]{64}")


@runtime_checkable
class PhotoStore(Protocol):
    """Where normalised photo bytes live; keys are lowercase SHA-256 hex of the bytes."""

    def put(self, key: str, data: bytes) -> None:
        """Store data under key; storing the same key again is a no-op."""
        ...

    def get(self, key: str) -> bytes:
        """Return the bytes for key; raise KeyError if there are none."""
        ...

    def exists(self, key: str) -> bool:
        """Whether key is stored."""
        ...

    def delete(self, key: str) -> None:
        """Remove key if present (no error if it is already gone)."""
        ...


def validate_key(key: object) -> str:
    """Return key if it is 64 lowercase hex digits, else raise ValueError.

    Keys become file paths, so this is also the path-traversal guard.
    """
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"invalid photo key: {key!r:.80}")
    return key


class LocalPhotoStore:
    """A PhotoStore on the local filesystem: root/ab/cd/<sha256>.jpg."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        """Use root as the store's directory; it is created on first put."""
        self.root = Path(root)

    def path_for(self, key: str) -> Path:
        """The file path for key (validated). Two fan-out levels keep directories small."""
        key = validate_key(key)
        return self.root / key[:2] / key[2:4] / f"{key}.jpg"

    def put(self, key: str, data: bytes) -> None:
        """Store data atomically under key, which must be the SHA-256 of data."""
        path = self.path_for(key)
        # Content addressing is what makes skipping an existing file safe, so enforce it:
        # a caller storing the thumbnail under the photo's key would otherwise go unnoticed.
        if hashlib.sha256(data).hexdigest() != key:
            raise ValueError("photo key is not the SHA-256 of the data")
        if path.is_file():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target then rename: readers never see a half-written photo, and
        # a crash leaves at most a dot-file that no key can name.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{key[:8]}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())  # the bytes are on disk before the name points at them
            os.chmod(tmp, 0o644)  # mkstemp makes 0600; a web server may serve these files
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(path.parent)

    def get(self, key: str) -> bytes:
        """Return the stored bytes; KeyError if key is not stored."""
        try:
            return self.path_for(key).read_bytes()
        except FileNotFoundError:
            raise KeyError(key) from None

    def exists(self, key: str) -> bool:
        """Whether key is stored."""
        return self.path_for(key).is_file()

    def delete(self, key: str) -> None:
        """Remove key if present."""
        self.path_for(key).unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself, so a crash cannot lose a photo the database refers to."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. platforms that cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
