"""Content-addressed photo storage: bytes are stored under the SHA-256 of their content, in a local
directory (the default) or an S3-compatible object store (ROUNDS_PHOTO_STORE=s3; see make_store)."""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from contextlib import contextmanager
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

    def reachable(self) -> bool:
        """Whether the store answers now (the health check)."""
        ...


class StoreUnavailable(Exception):
    """The store could not be reached or answered with an error: the caller says "try again"."""


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

    def reachable(self) -> bool:
        """For the health check: the directory is there (or can be made) and writable."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError:
            return False
        return os.access(self.root, os.W_OK | os.X_OK)

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


class S3PhotoStore:
    """A PhotoStore in an S3 bucket (SeaweedFS, MinIO, AWS…): <prefix><sha256>.jpg, private objects.

    Photos are read back through the app's access-checked route only, never by bucket URL. Any
    failure to reach the store raises StoreUnavailable (a missing object is KeyError, as locally).
    """

    def __init__(self, client, bucket: str, prefix: str = "photos/") -> None:
        self.client, self.bucket, self.prefix = client, bucket, prefix

    def object_key(self, key: str) -> str:
        return f"{self.prefix}{validate_key(key)}.jpg"

    def put(self, key: str, data: bytes) -> None:
        """Store data under key (its SHA-256). Writing the same bytes again is harmless, so no
        existence check first: one request, not two."""
        name = self.object_key(key)
        if hashlib.sha256(data).hexdigest() != key:
            raise ValueError("photo key is not the SHA-256 of the data")
        with self._errors():
            self.client.put_object(Bucket=self.bucket, Key=name, Body=data, ContentType="image/jpeg")

    def get(self, key: str) -> bytes:
        name = self.object_key(key)
        with self._errors(missing=key):
            return self.client.get_object(Bucket=self.bucket, Key=name)["Body"].read()

    def exists(self, key: str) -> bool:
        name = self.object_key(key)
        try:
            with self._errors(missing=key):
                self.client.head_object(Bucket=self.bucket, Key=name)
        except KeyError:
            return False
        return True

    def delete(self, key: str) -> None:
        name = self.object_key(key)
        with self._errors():
            self.client.delete_object(Bucket=self.bucket, Key=name)

    def close(self) -> None:
        """Close the client's pooled connections."""
        self.client.close()

    def reachable(self) -> bool:
        """For the health check: the bucket answers."""
        try:
            with self._errors():
                self.client.head_bucket(Bucket=self.bucket)
        except StoreUnavailable:
            return False
        return True

    @contextmanager
    def _errors(self, missing: str | None = None):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if missing is not None and code in ("404", "NoSuchKey", "NotFound"):
                raise KeyError(missing) from None
            raise StoreUnavailable(code or "error") from exc
        except BotoCoreError as exc:  # connection refused, timeouts, bad endpoint
            raise StoreUnavailable(type(exc).__name__) from exc


def make_store(config) -> PhotoStore:
    """The store the configuration names: PHOTO_STORE "local" (PHOTO_DIR) or "s3" (S3_* settings)."""
    if config.get("PHOTO_STORE", "local") != "s3":
        return LocalPhotoStore(config["PHOTO_DIR"])
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3", endpoint_url=config["S3_ENDPOINT"] or None, region_name=config["S3_REGION"],
        aws_access_key_id=config["S3_ACCESS_KEY"] or None, aws_secret_access_key=config["S3_SECRET_KEY"] or None,
        # Path-style URLs work with every S3 server; short timeouts and two tries, so a store
        # that is down costs a user seconds, not minutes, before "try again".
        config=Config(s3={"addressing_style": "path"}, connect_timeout=config.get("S3_TIMEOUT", 5),
                      read_timeout=config.get("S3_TIMEOUT", 5), retries={"max_attempts": 2, "mode": "standard"},
                      max_pool_connections=20))
    return S3PhotoStore(client, config["S3_BUCKET"], config.get("S3_PREFIX", "photos/"))


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
