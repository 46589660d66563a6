"""Draw a PDF's first page as a PNG in a child process: `python pdf_page.py EDGE MAX_POINTS` reads the
PDF on stdin and writes the PNG on stdout. Run by plans.normalise_plan with a time limit, because a
PDF of a few kilobytes can hold minutes of drawing for PDFium (a compressed content stream of millions
of strokes) and a render cannot be interrupted in the web worker. Exit codes name the refusal.

Run as a file, not as part of the app package: the child imports PDFium and Pillow only."""
import io
import resource
import sys

UNREADABLE, NO_PAGES, NO_SIZE = 3, 4, 5
MEMORY = 1 << 30  # 1 GiB of address space: a 2000 px page needs some 16 MB


def main(edge: int, max_points: float, seconds: int) -> int:
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    import pypdfium2 as pdfium

    data = sys.stdin.buffer.read()
    try:
        doc = pdfium.PdfDocument(data)
    except (pdfium.PdfiumError, ValueError, OSError):
        return UNREADABLE
    try:
        if len(doc) < 1:
            return NO_PAGES
        page = doc[0]
        width, height = page.get_size()
        if not (0 < width <= max_points and 0 < height <= max_points):
            return NO_SIZE
        img = page.render(scale=edge / max(width, height), may_draw_forms=True).to_pil().convert("RGB")
    except (pdfium.PdfiumError, ValueError, OSError, MemoryError):
        return UNREADABLE
    finally:
        doc.close()
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=1)
    sys.stdout.buffer.write(buf.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])))
