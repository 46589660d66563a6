"""Photo normalisation: any phone photo in, a small upright metadata-free JPEG out.

Pure functions: no Flask request, no database. Everything a hostile or broken upload can
make Pillow raise is turned into PhotoRejected, whose message is safe to show the user.
"""
from __future__ import annotations

import hashlib
import io
import re
import struct
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import pillow_heif
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from app.services.errors import Refused

# Once, at import: teaches Image.open to recognise HEIF/HEIC by its ftyp box.
pillow_heif.register_heif_opener()

MIB = 1024 * 1024

# Formats are recognised by content (Pillow's magic-byte checks), never by file name.
# Only these plugins are even tried, so GIF, TIFF, PDF, SVG, BMP... never reach a decoder.
# MPO is what Pillow calls a JPEG carrying extra pictures (portrait-mode, Samsung burst):
# the JPEG plugin itself hands it back, and its primary picture is an ordinary JPEG.
_OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
_ALLOWED_FORMATS = frozenset(_OPEN_FORMATS) | {"MPO"}
_DRAFT_FORMATS = frozenset({"JPEG", "MPO"})

PHOTO_QUALITY = 82
THUMB_QUALITY = 75
# reducing_gap: shrink by an integer factor first (cheap box filter), then LANCZOS for the
# rest; Pillow documents 3.0 as indistinguishable from a full LANCZOS pass.
_REDUCING_GAP = 3.0

# What Pillow (and pillow_heif underneath it) raise on truncated, corrupt or crafted files.
# Pillow's plugins are parsers of untrusted input and have historically also leaked
# IndexError/KeyError/TypeError/ZeroDivisionError from malformed headers; none of these may
# become a 500. MemoryError is deliberately absent: it means the server is in trouble.
_DAMAGED_ERRORS = (
    OSError,  # includes "image file is truncated", decoder errors -2/-3
    ValueError,
    SyntaxError,
    struct.error,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    RuntimeError,  # libheif decode failures
    NotImplementedError,
)

_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class PhotoRejected(Refused):
    """An upload we will not store; ``message`` is a translatable, user-facing explanation (kept lazy,
    so it renders in the locale of whoever displays it)."""


class PhotoTooLarge(PhotoRejected):
    """Refused for its size (bytes, pixels or edge), so a caller can word it for its own uploads."""


def _not_a_photo() -> PhotoRejected:
    return PhotoRejected(_l("This file is not a photo. Use a JPEG, PNG, WebP or HEIC image."))


def _too_many_bytes(max_bytes: int) -> PhotoRejected:
    return PhotoTooLarge(_l("This photo is larger than %(mb)d MB.", mb=max(1, max_bytes // MIB)))


def _too_many_pixels(pixels: int) -> PhotoRejected:
    return PhotoTooLarge(
        _l("This image is too large (%(mp)d megapixels).", mp=round(pixels / 1_000_000))
    )


def _damaged() -> PhotoRejected:
    return PhotoRejected(_l("This photo is damaged or incomplete."))


@dataclass(frozen=True)
class Normalised:
    """A normalised photo and its thumbnail, both JPEG, with their SHA-256 hex digests."""

    image: bytes
    thumb: bytes
    width: int
    height: int
    sha256: str
    thumb_sha256: str


def normalise(
    data: bytes,
    *,
    max_bytes: int = 25 * MIB,
    max_pixels: int = 50_000_000,
    long_edge: int = 1600,
    thumb_edge: int = 240,
) -> Normalised:
    """Check, decode, orient, shrink and re-encode an uploaded photo; raise PhotoRejected."""
    # Cheap checks first: nothing below runs for an empty or oversized upload.
    if not data:
        raise _not_a_photo()
    if len(data) > max_bytes:
        raise _too_many_bytes(max_bytes)

    with _refusing(max_pixels):
        img = _open(data, max_pixels)
        icc_profile = img.info.get("icc_profile")
        img = _shrink_upright(img, long_edge)
        img = _to_srgb(img, icc_profile)
        image = _encode_jpeg(img, PHOTO_QUALITY)
        thumb_img = _resize_within(img, thumb_edge)
        thumb = _encode_jpeg(thumb_img, THUMB_QUALITY)

    return Normalised(
        image=image,
        thumb=thumb,
        width=img.width,
        height=img.height,
        sha256=hashlib.sha256(image).hexdigest(),
        thumb_sha256=hashlib.sha256(thumb).hexdigest(),
    )


@contextmanager
def _refusing(max_pixels: int):
    """Run Pillow on untrusted bytes: bomb warnings are errors, every failure a PhotoRejected."""
    # A process-wide switch that some other code might flip; if True, Pillow silently pads a
    # half-uploaded photo with grey. Re-assert it on every call rather than trust import order.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        # catch_warnings is process-global before Python 3.14; if threads race on it, the
        # worst case is a bomb warning staying a warning, and _open's own max_pixels check
        # (50 MP by default, below Pillow's 89 MP warning threshold) still refuses the file.
        with warnings.catch_warnings():
            # Pillow only *warns* between 1x and 2x its own pixel limit; make that a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # "Corrupt EXIF" and similar notices are about metadata we discard anyway.
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            yield
    except PhotoRejected:
        raise
    except UnidentifiedImageError as exc:
        raise _not_a_photo() from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _too_many_pixels(_pixels_in_bomb_message(exc, max_pixels)) from exc
    except _DAMAGED_ERRORS as exc:
        raise _damaged() from exc


def declared_pixels(data: bytes, *, max_bytes: int = 25 * MIB, max_pixels: int = 50_000_000) -> int:
    """The pixel count an upload's header declares, read without decoding; PhotoRejected as normalise."""
    if not data:
        raise _not_a_photo()
    if len(data) > max_bytes:
        raise _too_many_bytes(max_bytes)
    with _refusing(max_pixels):
        with _open(data, max_pixels) as img:
            width, height = img.size
    return width * height


def check_request(blobs: list[bytes], *, max_count: int, max_total_pixels: int,
                  max_bytes: int = 25 * MIB, max_pixels: int = 50_000_000, pictures: int | None = None) -> None:
    """Refuse a request's photos by count, then by the pixels their headers declare, before any decode.

    `pictures`: how many photos the user chose, when that is not len(blobs) (a marked-up photo
    carries its original: two blobs, one picture); the pixels of every blob count."""
    chosen = len(blobs) if pictures is None else pictures
    if chosen > max_count or len(blobs) > 2 * max_count:
        raise PhotoRejected(_l("You chose %(chosen)d photos; send at most %(num)d at a time.",
                               chosen=chosen, num=max_count))
    total = sum(declared_pixels(b, max_bytes=max_bytes, max_pixels=max_pixels) for b in blobs)
    if total > max_total_pixels:
        raise PhotoRejected(_l("These photos are too large together (%(mp)d megapixels; at most %(max)d "
                               "at a time). Send fewer at once.", mp=round(total / 1_000_000),
                               max=max_total_pixels // 1_000_000))


def check_room(have: int, adding: int, cap: int) -> None:
    """Refuse adding photos to an answer or defect that would then hold more than ``cap``."""
    if adding and have + adding > cap:
        raise PhotoRejected(_l("An item holds at most %(num)d photos; it has %(have)d. "
                               "Remove some before adding more.", num=cap, have=have))


def decode_guarded(data: bytes, *, formats: tuple[str, ...], max_bytes: int, max_pixels: int,
                   max_edge: int | None = None) -> Image.Image:
    """The first frame of an upload in one of ``formats``, decoded under the photo guard as RGB
    (transparency flattened on white, no metadata kept); PhotoRejected (PhotoTooLarge) otherwise."""
    if not data:
        raise _not_a_photo()
    if len(data) > max_bytes:
        raise _too_many_bytes(max_bytes)
    with _refusing(max_pixels):
        img = _open(data, max_pixels, formats)
        if max_edge and max(img.size) > max_edge:  # a 4 MP strip 40000 px long is no signature
            raise _too_many_pixels(img.width * img.height)
        img.load()  # frame 0 only: an animation's later frames are never decoded
        img = _flatten(_resizable(img))
    img.info = {}
    return img


def _open(data: bytes, max_pixels: int, formats: tuple[str, ...] = _OPEN_FORMATS) -> ImageFile.ImageFile:
    """Identify the format from the bytes and check the pixel count; decodes no pixels."""
    # BytesIO over bytes shares the buffer (no copy) until written to.
    img = Image.open(io.BytesIO(data), formats=formats)
    allowed = _ALLOWED_FORMATS if formats is _OPEN_FORMATS else frozenset(formats)
    if img.format not in allowed:  # belt and braces: formats= already limits this
        raise _not_a_photo()
    # Image.open only parsed the header, so this refuses a bomb before any pixel memory exists.
    width, height = img.size
    if width < 1 or height < 1:
        raise _damaged()
    if width * height > max_pixels:
        raise _too_many_pixels(width * height)
    return img


def _shrink_upright(img: ImageFile.ImageFile, long_edge: int) -> Image.Image:
    """Decode at the smallest useful scale, turn upright, and fit within long_edge (RGB/RGBA)."""
    if img.format in _DRAFT_FORMATS:
        # libjpeg can decode at 1/2, 1/4 or 1/8 scale directly from the DCT, halving time and
        # memory. Pillow keeps a scale only if the result stays >= the requested size in BOTH
        # axes, so ask for the aspect-preserving fit (4032x3024 -> 1600x1200), not a square.
        # Draft acts on the stored pixels, before any EXIF rotation; the long-edge fit is the
        # same whichever way the photo is turned, so the stored size is the right input.
        img.draft("RGB", _fit(img.size, long_edge))
    img.load()  # full decode now, so truncation surfaces here as OSError
    # Phones store pixels sideways and set EXIF Orientation; apply it so viewers (which will
    # no longer see any EXIF) get an upright photo. pillow_heif has already applied HEIF's own
    # rotation and reset the tag to 1, so this is a no-op for HEIC.
    ImageOps.exif_transpose(img, in_place=True)
    img = _resizable(img)
    img = _resize_within(img, long_edge)
    return _flatten(img)


def _resizable(img: Image.Image) -> Image.Image:
    """Convert to RGB or RGBA, the modes LANCZOS resizing and JPEG encoding handle well."""
    if img.mode in ("RGB", "RGBA"):
        return img
    if img.mode.startswith("I;16") or img.mode == "I":
        # 16-bit greyscale PNG: scale to 8 bits; a plain convert would clip almost all to white.
        img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    has_alpha = (
        img.mode in ("LA", "La", "PA", "RGBa")
        or "transparency" in img.info  # palette or single-colour transparency in PNG
    )
    return img.convert("RGBA" if has_alpha else "RGB")


def _flatten(img: Image.Image) -> Image.Image:
    """Composite any transparency onto white: JPEG has no alpha, and black looks broken."""
    if img.mode != "RGBA":
        return img
    background = Image.new("RGB", img.size, (255, 255, 255))
    background.paste(img, mask=img.getchannel("A"))
    return background


def _to_srgb(img: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert pixels from an embedded RGB profile (iPhone Display P3) to sRGB.

    The output carries no ICC profile, and browsers read untagged JPEGs as sRGB; without
    this, wide-gamut phone photos would look washed out. A broken profile is ignored.
    """
    if not icc_profile or img.mode != "RGB":
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if source.profile.xcolor_space.strip() != "RGB":  # e.g. a CMYK JPEG's profile
            return img
        # Most Android photos are tagged sRGB already; the transform would cost ~30 ms for
        # an identity. Decided by name: a mislabelled profile only shifts colours slightly.
        if "srgb" in ImageCms.getProfileDescription(source).lower():
            return img
        return ImageCms.profileToProfile(img, source, _SRGB, outputMode="RGB") or img
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError, AttributeError):
        return img


def _resize_within(img: Image.Image, edge: int) -> Image.Image:
    """Shrink so the long edge is at most ``edge``; never enlarge."""
    size = _fit(img.size, edge)
    if size == img.size:
        return img
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=_REDUCING_GAP)


def _fit(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """The size with long edge ``edge`` and the same aspect ratio, or ``size`` if smaller."""
    width, height = size
    longest = max(width, height)
    if longest <= edge:
        return size
    scale = edge / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _encode_jpeg(img: Image.Image, quality: int) -> bytes:
    """Encode as a progressive JPEG with no EXIF, ICC, XMP or comment."""
    # Pillow's JPEG writer falls back to img.info for some fields (the comment, for one), and
    # convert/resize copy info from the source; an empty info dict guarantees nothing rides
    # along. exif=/icc_profile=/xmp= are deliberately never passed.
    img.info = {}
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality, optimize=True, progressive=True)
    return buf.getvalue()


_BOMB_PIXELS = re.compile(r"\((\d+) pixels\)")


def _pixels_in_bomb_message(exc: Exception, fallback: int) -> int:
    """Pillow raises its bomb check inside Image.open, before we see .size; read it back."""
    match = _BOMB_PIXELS.search(str(exc))
    return int(match.group(1)) if match else fallback
