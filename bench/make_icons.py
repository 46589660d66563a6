"""Draw the app's icons once: a white 巡 on the brand blue (#12355b), committed under static/icons/.

Run from the project root:  .venv/bin/python bench/make_icons.py
Needs a CJK font (Debian's fonts-noto-cjk). Writes icon-192.png, icon-512.png, maskable-192.png,
maskable-512.png (the mark inside the 80 % safe zone), apple-touch-icon.png (180, opaque, iOS rounds
the corners itself), favicon-32.png and favicon.ico (16, 32, 48).
"""
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "static" / "icons"
BRAND = (0x12, 0x35, 0x5B, 255)
WHITE = (255, 255, 255, 255)
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
MARK = "巡"


def draw(size: int, mark_share: float, rounded: bool) -> Image.Image:
    """The mark centred on the brand colour; `mark_share` of the side is the glyph's height."""
    scale = 4  # drawn large, then downsampled: smooth edges at 16 px too
    big = size * scale
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if rounded:
        d.rounded_rectangle((0, 0, big - 1, big - 1), radius=int(big * 0.2), fill=BRAND)
    else:
        d.rectangle((0, 0, big, big), fill=BRAND)
    font = ImageFont.truetype(FONT, int(big * mark_share), index=2)  # index 2: Simplified Chinese (SC)
    left, top, right, bottom = d.textbbox((0, 0), MARK, font=font)
    d.text(((big - (right - left)) / 2 - left, (big - (bottom - top)) / 2 - top), MARK, font=font, fill=WHITE)
    return img.resize((size, size), Image.LANCZOS)


def small(img: Image.Image) -> Image.Image:
    """A 32-colour palette keeps the anti-aliased edges and is a third of the RGBA file."""
    return img.quantize(colors=32, method=Image.Quantize.FASTOCTREE)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        small(draw(size, 0.62, rounded=True)).save(OUT / f"icon-{size}.png", optimize=True)
        small(draw(size, 0.46, rounded=False)).save(OUT / f"maskable-{size}.png", optimize=True)
    small(draw(180, 0.58, rounded=False).convert("RGB")).save(OUT / "apple-touch-icon.png", optimize=True)
    small(draw(32, 0.78, rounded=True)).save(OUT / "favicon-32.png", optimize=True)
    draw(48, 0.78, rounded=True).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])
    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size:,} B")


if __name__ == "__main__":
    main()
