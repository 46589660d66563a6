"""Benchmark the hostile tester's upload: 30 PNGs of a few KB, each declaring 7000x7000 pixels.

Run from the project root:  .venv/bin/python bench/upload_bench.py
"before" runs the photos through normalise_all as the app did (each decoded, none refused);
"after" with the app's request caps (count and declared pixels, read from the headers first);
"after-10" sends only ten of them, so the count passes and the pixel budget refuses.
Each runs in a fresh process: wall time and the rise in peak RSS. Prints figures, asserts nothing.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import json  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402

from app.config import Config  # noqa: E402

COUNT, SIDE = 30, 7000


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def hostile_request() -> list[bytes]:
    """30 distinct 1-bit PNGs declaring SIDE x SIDE (each about 6 KB, all black)."""
    comp = zlib.compressobj(9)
    idat = comp.compress(b"\x00" * (1 + (SIDE + 7) // 8) * SIDE) + comp.flush()
    ihdr = _chunk(b"IHDR", struct.pack(">IIBBBBB", SIDE, SIDE, 1, 0, 0, 0, 0))
    return [b"\x89PNG\r\n\x1a\n" + ihdr + _chunk(b"tEXt", b"n\x00" + str(i).encode()) + _chunk(b"IDAT", idat)
            + _chunk(b"IEND", b"") for i in range(COUNT)]


def _kib(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def child(mode: str) -> None:
    """Run one mode in this (fresh) process and print its figures as JSON."""
    from app.services.photos import PhotoRejected
    from app.services.uploads import normalise_all

    blobs = hostile_request()[:10] if mode == "after-10" else hostile_request()
    limits = dict(max_bytes=Config.MAX_PHOTO_BYTES, max_pixels=Config.MAX_PHOTO_PIXELS,
                  long_edge=Config.PHOTO_LONG_EDGE, thumb_edge=Config.THUMB_LONG_EDGE)
    if mode.startswith("after"):
        limits.update(max_count=Config.MAX_PHOTOS_PER_REQUEST, max_total_pixels=Config.MAX_PIXELS_PER_REQUEST)
    base = _kib("VmRSS")
    start = time.perf_counter()
    try:
        stored, outcome = len(normalise_all(blobs, **limits)), "accepted"
    except PhotoRejected as e:
        stored, outcome = 0, f"refused: {e}"
    seconds = time.perf_counter() - start
    print(json.dumps(dict(seconds=seconds, rise_mb=(_kib("VmHWM") - base) / 1024, stored=stored,
                          outcome=outcome, request_kb=sum(map(len, blobs)) / 1024)))


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    print(f"{COUNT} PNGs declaring {SIDE}x{SIDE} ({SIDE * SIDE / 1e6:.0f} MP each) in one request")
    # after-10: ten of them, within the count cap, refused by the pixels their headers declare.
    for mode in ("before", "after", "after-10"):
        out = subprocess.run([sys.executable, __file__, "--child", mode], capture_output=True, text=True,
                             check=True).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(f"  {mode:8}  {r['request_kb']:.0f} KB  {r['seconds'] * 1000:8.0f} ms  "
              f"peak RSS +{r['rise_mb']:.0f} MB  photos made: {r['stored']:2d}  ({r['outcome']})")


if __name__ == "__main__":
    main()
