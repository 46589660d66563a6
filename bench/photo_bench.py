"""Benchmark normalise() on a 12-megapixel phone-like JPEG: time per photo and peak memory.

Run from the project root:  .venv/bin/python bench/photo_bench.py [-n RUNS]
Targets (2 cores): <= 250 ms and <= 100 MB peak per photo. Prints figures, asserts nothing.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

from PIL import Image, ImageChops, ImageCms, ImageFilter  # noqa: E402

from app.services.photos import normalise  # noqa: E402

WIDTH, HEIGHT = 4032, 3024  # a 12 MP phone sensor, stored landscape
TARGET_MS, TARGET_MB = 250, 100


def make_phone_jpeg() -> bytes:
    """A 4032x3024 JPEG that compresses like a photo (~4-5 MB), rotated by EXIF, with GPS."""
    # Gradients give smooth areas; blurred noise gives the fine texture that makes real
    # photos expensive to decode. Pure noise or pure gradient would be unrealistically
    # slow or fast.
    gx = Image.linear_gradient("L").rotate(90).resize((WIDTH, HEIGHT))
    gy = Image.linear_gradient("L").resize((WIDTH, HEIGHT))
    gr = Image.radial_gradient("L").resize((WIDTH, HEIGHT))
    noise = [Image.effect_noise((WIDTH, HEIGHT), 30).filter(ImageFilter.GaussianBlur(0.7)) for _ in range(3)]
    img = ImageChops.add(Image.merge("RGB", (gx, gy, gr)), Image.merge("RGB", noise), offset=-128)

    exif = img.getexif()
    exif[0x010F] = "BenchPhone"  # Make
    exif[0x0110] = "BenchPhone 12"  # Model
    exif[0x0112] = 6  # Orientation: held upright, stored sideways
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (51.0, 30.0, 26.4), 3: "W", 4: (0.0, 7.0, 39.1)})
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, exif=exif, icc_profile=srgb)
    return buf.getvalue()


def _proc_status_kib(field: str) -> int | None:
    """A VmRSS/VmHWM figure from /proc/self/status (Linux), in KiB, or None."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset this process's peak-RSS mark to its current RSS (Linux clear_refs "5")."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def child(path: str) -> None:
    """Run one normalise() in this fresh process and print its memory cost as JSON."""
    data = Path(path).read_bytes()
    # Peak RSS includes Pillow's C buffers, which tracemalloc cannot see. ru_maxrss alone is
    # misleading here: Linux carries it across fork+exec, so a child inherits the parent's
    # high-water mark (the parent just built a 12 MP image). Where possible, reset the mark
    # to the current RSS and read the per-process VmHWM; else fall back to ru_maxrss.
    if _reset_peak_rss() and _proc_status_kib("VmHWM") is not None:
        method = "VmHWM after clear_refs"
        before = _proc_status_kib("VmRSS")
        normalise(data)
        after = _proc_status_kib("VmHWM")
    else:
        method = "ru_maxrss"
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        normalise(data)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Second call under tracemalloc: only Python-level allocations (bytes, BytesIO buffers).
    tracemalloc.start()
    normalise(data)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"rss_delta_kib": after - before, "baseline_kib": before,
                      "method": method, "traced_peak": traced_peak}))


def measure_memory(path: str) -> dict:
    """Measure in a subprocess, so earlier runs in this process don't hide the peak."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", path], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def main() -> None:
    """Generate the test photo, time N runs, measure memory, print labelled figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=10)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    data = make_phone_jpeg()
    print(f"input: {WIDTH}x{HEIGHT} JPEG, {len(data) / 1e6:.2f} MB, EXIF orientation 6 + GPS + ICC")
    print(f"cpus: {os.cpu_count()}, runs: {args.runs}")

    result = normalise(data)  # warm-up: imports, codec init, page faults
    times, cpu_times = [], []
    for _ in range(args.runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        result = normalise(data)
        times.append((time.perf_counter() - start) * 1000)
        cpu_times.append((time.process_time() - cpu_start) * 1000)
    times.sort()
    p50 = statistics.median(times)
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "phone.jpg"
        path.write_bytes(data)
        mem = measure_memory(str(path))

    rss_mb = mem["rss_delta_kib"] / 1024
    print(
        f"output: {result.width}x{result.height} JPEG {len(result.image) / 1e3:.0f} kB, "
        f"thumb {len(result.thumb) / 1e3:.1f} kB"
    )
    # CPU time is what to compare on a shared machine: wall time grows with other load.
    print(
        f"wall min {times[0]:.0f} ms, max {times[-1]:.0f} ms; "
        f"CPU p50 {statistics.median(cpu_times):.0f} ms (load average {os.getloadavg()[0]:.1f})"
    )
    print(f"tracemalloc peak (Python objects only): {mem['traced_peak'] / 1e6:.1f} MB")
    print(
        f"peak RSS in a fresh process: +{rss_mb:.1f} MB over {mem['baseline_kib'] / 1024:.0f} MB "
        f"after imports and reading the file ({mem['method']})"
    )
    print(
        f"normalise 12MP JPEG: p50 {p50:.0f} ms, p95 {p95:.0f} ms, peak RSS +{rss_mb:.0f} MB "
        f"(target <={TARGET_MS} ms, <={TARGET_MB} MB)"
    )


if __name__ == "__main__":
    main()
