"""normalise() and LocalPhotoStore: what a supervisor's upload turns into, or why it is refused.

No Flask app and no database: the refusal messages are flask_babel lazy strings, which render
untranslated outside a request. Every fixture image is generated here.
"""
import hashlib
import io
import os
import random
import struct
import zlib

import flask
import pillow_heif
import pytest
from PIL import Image, ImageCms

from app.services.photos import Normalised, PhotoRejected, normalise
from app.services.storage import LocalPhotoStore, PhotoStore

RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


@pytest.fixture(autouse=True)
def _clean():
    """Replace tests/conftest.py's autouse fixture of this name for this module.

    That one builds the app, resets the database and pushes an app context for every test.
    These tests need none of it, and inside an app context the lazy refusal messages would
    render in the default locale (zh_Hans) instead of the English asserted here.
    """
    yield
GPS_IFD = 0x8825
ORIENTATION = 0x0112


# --- fixture builders -------------------------------------------------------------------


def photo_like(size, seed=1):
    """An RGB image with gradients and noise, so it encodes like a photo, not a flat card.

    The noise comes from a seeded Python RNG, so every run sees the same bytes.
    """
    w, h = size
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").rotate(90).resize(size),
            Image.linear_gradient("L").resize(size),
            Image.radial_gradient("L").resize(size),
        ),
    )
    noise = Image.frombytes("RGB", size, random.Random(seed).randbytes(w * h * 3))
    return Image.blend(base, noise, 0.2)


def encode(img, fmt, **params):
    """The bytes of img saved as fmt."""
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def heic(img):
    """The bytes of img as an iPhone-style HEIC."""
    buf = io.BytesIO()
    # x265's ultrafast preset: same HEIC container and codec, ~10x quicker to make.
    pillow_heif.from_pillow(img).save(buf, quality=50, enc_params={"preset": "ultrafast"})
    return buf.getvalue()


def quadrants(size, tl, tr, bl, br):
    """An image split into four coloured quadrants."""
    w, h = size
    img = Image.new("RGB", size)
    img.paste(tl, (0, 0, w // 2, h // 2))
    img.paste(tr, (w // 2, 0, w, h // 2))
    img.paste(bl, (0, h // 2, w // 2, h))
    img.paste(br, (w // 2, h // 2, w, h))
    return img


def png_chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bilevel_png(width, height, rows=True):
    """A valid 1-bit greyscale PNG of all-black rows: megapixels on screen, kilobytes on disk.

    Written by hand so the test never holds the pixels in memory; with rows=False the IDAT
    is empty (a header that merely *claims* the size, as a crafted bomb would).
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    if rows:
        compressor = zlib.compressobj(9)
        row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
        idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    else:
        idat = zlib.compress(b"")
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def s15f16(v):
    return struct.pack(">i", round(v * 65536))


def rgb_icc_profile(description, red_xyz, green_xyz, blue_xyz):
    """A minimal ICC v2 RGB matrix/TRC display profile (gamma 2.2, D50 white)."""
    d50 = (0.9642, 1.0, 0.8249)

    def xyz(v):
        return b"XYZ \0\0\0\0" + b"".join(s15f16(c) for c in v)

    ascii_desc = description.encode() + b"\0"
    desc = (
        b"desc\0\0\0\0" + struct.pack(">I", len(ascii_desc)) + ascii_desc
        + b"\0" * 8 + b"\0\0\0" + b"\0" * 67
    )
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags = [
        (b"desc", desc), (b"wtpt", xyz(d50)), (b"rXYZ", xyz(red_xyz)), (b"gXYZ", xyz(green_xyz)),
        (b"bXYZ", xyz(blue_xyz)), (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0none\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for sig, body in tags:
        body += b"\0" * (-len(body) % 4)
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = (
        struct.pack(">I", size) + b"\0" * 4 + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ "
        + b"\0" * 12 + b"acsp" + b"\0" * 24 + b"\0" * 4 + b"".join(s15f16(c) for c in d50)
    ).ljust(128, b"\0")
    return header + struct.pack(">I", len(tags)) + table + data


# Primaries of sRGB adapted to D50, as found in sRGB ICC profiles.
SRGB_RED, SRGB_GREEN, SRGB_BLUE = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)


def output_of(result):
    """The normalised photo and thumbnail, opened."""
    return Image.open(io.BytesIO(result.image)), Image.open(io.BytesIO(result.thumb))


def near(pixel, colour, tolerance=40):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def rejection(data, **limits):
    """The PhotoRejected normalise() raises for data (fails the test if it accepts)."""
    with pytest.raises(PhotoRejected) as info:
        normalise(data, **limits)
    message = str(info.value)
    assert message.strip(), "refusals must explain themselves"
    assert str(info.value.message) == message
    return message


# --- accepted formats -------------------------------------------------------------------

ACCEPTED = {
    "jpeg": lambda img: encode(img, "JPEG", quality=90),
    "png": lambda img: encode(img, "PNG", compress_level=1),
    "png-alpha": lambda img: encode(img.convert("RGBA"), "PNG", compress_level=1),
    "webp": lambda img: encode(img, "WEBP", quality=80),
    "heic": lambda img: heic(img),
}


@pytest.mark.parametrize("kind", list(ACCEPTED))
def test_each_phone_format_becomes_a_small_jpeg_and_thumbnail(kind):
    source = photo_like((2000, 1500))
    result = normalise(ACCEPTED[kind](source))

    photo, thumb = output_of(result)
    assert isinstance(result, Normalised)
    assert photo.format == "JPEG" and thumb.format == "JPEG"
    assert photo.mode == "RGB" and thumb.mode == "RGB"
    assert photo.size == (result.width, result.height) == (1600, 1200)
    assert max(thumb.size) == 240 and thumb.size == (240, 180)
    assert result.sha256 == hashlib.sha256(result.image).hexdigest()
    assert result.thumb_sha256 == hashlib.sha256(result.thumb).hexdigest()
    # The picture survives: the centre pixel is close to the source's.
    assert near(photo.getpixel((800, 600)), source.getpixel((1000, 750)), tolerance=60)


def test_full_size_phone_jpeg_is_shrunk_to_1600_on_the_long_edge():
    result = normalise(encode(photo_like((4032, 3024)), "JPEG", quality=90))
    assert (result.width, result.height) == (1600, 1200)


def test_multi_picture_jpeg_from_a_phone_is_accepted():
    # Portrait-mode and burst shots arrive as MPO: a JPEG with extra pictures appended.
    first, second = photo_like((800, 600)), photo_like((800, 600), seed=2)
    data = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    result = normalise(data)
    assert (result.width, result.height) == (800, 600)


def test_transparent_areas_become_white_not_black():
    img = Image.new("RGBA", (400, 300), (0, 0, 0, 0))
    img.paste((200, 0, 0, 255), (0, 0, 200, 300))  # opaque red left half
    for data in (encode(img, "PNG"), encode(img, "WEBP", lossless=True)):
        photo, _ = output_of(normalise(data))
        assert near(photo.getpixel((100, 150)), (200, 0, 0))
        assert near(photo.getpixel((300, 150)), WHITE)


def test_palette_png_with_transparency_becomes_white_background():
    img = Image.new("P", (200, 100), 0)
    img.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(1, (0, 0, 100, 100))
    photo, _ = output_of(normalise(encode(img, "PNG", transparency=0)))
    assert near(photo.getpixel((50, 50)), BLUE)
    assert near(photo.getpixel((150, 50)), WHITE)


def test_sixteen_bit_greyscale_png_keeps_its_tones():
    img = Image.new("I;16", (200, 100), 32768)  # mid grey at 16 bits
    photo, _ = output_of(normalise(encode(img, "PNG")))
    assert near(photo.getpixel((100, 50)), (128, 128, 128), tolerance=5)


def test_small_photo_is_not_upscaled():
    result = normalise(encode(photo_like((300, 200)), "JPEG"))
    photo, thumb = output_of(result)
    assert photo.size == (300, 200)
    assert thumb.size == (240, 160)


def test_tiny_photo_thumbnail_is_not_upscaled_either():
    _, thumb = output_of(normalise(encode(photo_like((120, 90)), "PNG")))
    assert thumb.size == (120, 90)


def test_same_upload_gives_same_bytes_and_hash():
    # Storage is content-addressed: re-uploading a photo must not create a second copy.
    data = encode(photo_like((1000, 800)), "JPEG")
    assert normalise(data) == normalise(data)


# --- orientation ------------------------------------------------------------------------


def jpeg_with_orientation(img, orientation):
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    return encode(img, "JPEG", quality=90, exif=exif)


def quadrant_colours(img):
    """The colours a viewer sees at the centre of each quadrant: (tl, tr, bl, br)."""
    w, h = img.size
    return tuple(img.getpixel((x, y)) for y in (h // 4, 3 * h // 4) for x in (w // 4, 3 * w // 4))


# Stored sideways as a landscape 3264x2448 (large enough that JPEG draft decoding kicks in);
# stored quadrants are TL red, TR green, BL blue, BR white.
# Orientation 6 = rotate 90 degrees clockwise to view; 8 = anticlockwise; 3 = 180 degrees.
ORIENTATIONS = {
    6: ((1200, 1600), (BLUE, RED, WHITE, GREEN)),
    8: ((1200, 1600), (GREEN, WHITE, RED, BLUE)),
    3: ((1600, 1200), (WHITE, BLUE, GREEN, RED)),
    1: ((1600, 1200), (RED, GREEN, BLUE, WHITE)),
}


@pytest.mark.parametrize("orientation", list(ORIENTATIONS))
def test_rotated_phone_photo_comes_out_upright(orientation):
    stored = quadrants((3264, 2448), RED, GREEN, BLUE, WHITE)
    size, seen = ORIENTATIONS[orientation]

    photo, thumb = output_of(normalise(jpeg_with_orientation(stored, orientation)))

    assert photo.size == size
    for got, want in zip(quadrant_colours(photo), seen):
        assert near(got, want), (got, want)
    for got, want in zip(quadrant_colours(thumb), seen):
        assert near(got, want), (got, want)
    # Pixels are upright now, so no orientation tag may remain to rotate them again.
    assert not photo.getexif()


def test_rotated_small_photo_is_upright_and_not_upscaled():
    stored = quadrants((400, 200), RED, GREEN, BLUE, WHITE)
    photo, _ = output_of(normalise(jpeg_with_orientation(stored, 6)))
    assert photo.size == (200, 400)
    assert [near(got, want) for got, want in zip(quadrant_colours(photo), (BLUE, RED, WHITE, GREEN))] == [True] * 4


# --- metadata ---------------------------------------------------------------------------


def test_location_and_camera_metadata_are_removed():
    img = photo_like((2000, 1500))
    exif = img.getexif()
    exif[0x010F] = "SnoopCam"  # Make
    exif[0x0131] = "TrackerSoft 1.0"  # Software
    exif[ORIENTATION] = 1
    gps = exif.get_ifd(GPS_IFD)
    gps.update({1: "N", 2: (51.0, 30.0, 26.4), 3: "W", 4: (0.0, 7.0, 39.1), 27: b"ASCII\0\0\0GPSWHERE"})
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="51,30.44N"/>'
        b"</rdf:RDF></x:xmpmeta>"
    )
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(img, "JPEG", exif=exif, xmp=xmp, icc_profile=srgb, comment=b"home of SnoopCam owner")

    # The fixture really does carry the location.
    original = Image.open(io.BytesIO(data))
    assert original.getexif().get_ifd(GPS_IFD)[1] == "N"
    assert b"GPSWHERE" in data and b"GPSLatitude" in data and b"SnoopCam" in data

    result = normalise(data)
    for output in (result.image, result.thumb):
        opened = Image.open(io.BytesIO(output))
        assert not opened.getexif()
        assert not opened.getexif().get_ifd(GPS_IFD)
        for key in ("exif", "icc_profile", "xmp", "comment"):
            assert key not in opened.info
        for marker in (b"Exif\0\0", b"GPSWHERE", b"GPSLatitude", b"SnoopCam", b"TrackerSoft", b"http://ns.adobe.com"):
            assert marker not in output, marker


def test_heic_metadata_is_removed():
    img = photo_like((640, 480))
    exif = img.getexif()
    exif[0x010F] = "SnoopPhone"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (51.0, 30.0, 26.4)})
    heif = pillow_heif.from_pillow(img)
    buf = io.BytesIO()
    heif.save(buf, quality=50, exif=exif.tobytes(), enc_params={"preset": "ultrafast"})
    assert b"SnoopPhone" in buf.getvalue()

    result = normalise(buf.getvalue())
    assert b"SnoopPhone" not in result.image and b"Exif\0\0" not in result.image
    assert not Image.open(io.BytesIO(result.image)).getexif()


def test_wide_gamut_colours_are_converted_to_srgb():
    # Browsers show untagged JPEGs as sRGB, so pixels tagged with another RGB profile
    # (iPhones use Display P3) must be converted before the profile is dropped. This made-up
    # profile swaps the red and green primaries: its "pure red" is sRGB green.
    swapped = rgb_icc_profile("Swapped test RGB", SRGB_GREEN, SRGB_RED, SRGB_BLUE)
    img = Image.new("RGB", (200, 100), RED)
    result = normalise(encode(img, "PNG", icc_profile=swapped))
    photo = Image.open(io.BytesIO(result.image))
    assert "icc_profile" not in photo.info
    assert near(photo.getpixel((100, 50)), GREEN, tolerance=50)


def test_damaged_colour_profile_does_not_lose_the_photo():
    img = Image.new("RGB", (200, 100), RED)
    result = normalise(encode(img, "PNG", icc_profile=b"\0" * 200))
    assert near(Image.open(io.BytesIO(result.image)).getpixel((100, 50)), RED)


# --- refusals ---------------------------------------------------------------------------

NOT_A_PHOTO = "not a photo"


def test_text_file_renamed_to_jpg_is_refused():
    # normalise() never sees the name "photo.jpg"; only the content counts.
    assert NOT_A_PHOTO in rejection(b"Shift report\nAll doors locked.\n" * 20)


@pytest.mark.parametrize(
    "kind",
    ["GIF", "TIFF", "BMP", "PDF", "ICO"],
)
def test_other_image_formats_are_refused(kind):
    img = photo_like((64, 48))
    assert NOT_A_PHOTO in rejection(encode(img, kind))


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
        b"PK\x03\x04" + b"\0" * 100,  # a zip / office document
        b"\0" * 1000,
    ],
    ids=["svg", "pdf", "zip", "zeros"],
)
def test_non_images_are_refused(data):
    assert NOT_A_PHOTO in rejection(data)


def test_empty_file_is_refused():
    assert rejection(b"")


def test_file_over_the_size_limit_is_refused_before_decoding():
    data = encode(photo_like((1000, 800)), "JPEG", quality=95)
    assert "larger than 1 MB" in rejection(data + b"\0" * (1024 * 1024), max_bytes=1024 * 1024)
    # Even bytes that are no image at all get the size message: nothing was decoded.
    assert "larger than 25 MB" in rejection(b"x" * (25 * 1024 * 1024 + 1))


@pytest.mark.parametrize("progressive", [False, True])
def test_truncated_jpeg_is_refused(progressive):
    data = encode(photo_like((1200, 900)), "JPEG", quality=90, progressive=progressive)
    assert "damaged or incomplete" in rejection(data[: len(data) // 2])


def test_truncated_jpeg_is_refused_even_if_other_code_allows_truncated_images(monkeypatch):
    # LOAD_TRUNCATED_IMAGES is process-wide; another module switching it on must not make
    # us store a half-grey photo.
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    data = encode(photo_like((1200, 900)), "JPEG", quality=90)
    assert "damaged or incomplete" in rejection(data[: len(data) // 2])


@pytest.mark.parametrize("kind", ["png", "webp", "heic"])
def test_truncated_other_formats_are_refused(kind):
    data = ACCEPTED[kind](photo_like((600, 400)))
    assert rejection(data[: len(data) // 2])


def test_decompression_bomb_png_is_refused():
    # 10000x6000 = 60 MP of real, decodable PNG in ~10 kB: over the default 50 MP cap.
    data = bilevel_png(10_000, 6_000)
    assert len(data) < 100_000
    assert Image.open(io.BytesIO(data)).size == (10_000, 6_000)
    assert "too large (60 megapixels)" in rejection(data)


@pytest.mark.parametrize(
    "size",
    [(12_000, 8_000), (20_000, 20_000)],
    ids=["over-pillow-warning-limit", "over-pillow-error-limit"],
)
def test_headers_claiming_huge_images_are_refused(size, recwarn):
    # 96 MP trips Pillow's DecompressionBombWarning, 400 MP its DecompressionBombError,
    # both inside Image.open; neither may escape as a warning or a server error.
    assert "too large" in rejection(bilevel_png(*size, rows=False))
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


def test_pixel_cap_is_configurable():
    data = encode(photo_like((1000, 1000)), "PNG")
    assert "too large (1 megapixels)" in rejection(data, max_pixels=999_999)
    assert normalise(data, max_pixels=1_000_000).width == 1000


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xd8\xff\xe0" + b"\0" * 200,  # JPEG magic then junk
        b"\x89PNG\r\n\x1a\n" + b"\0" * 200,  # PNG magic then junk
        b"RIFF\x10\0\0\0WEBPVP8 " + b"\0" * 50,  # WebP magic then junk
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic" + b"\0" * 100,  # HEIC brand then junk
        bilevel_png(0, 10, rows=False),  # zero width
    ],
    ids=["jpeg", "png", "webp", "heic", "zero-width-png"],
)
def test_right_magic_wrong_body_is_refused(data):
    assert rejection(data)


@pytest.mark.parametrize("kind", list(ACCEPTED))
def test_corrupted_uploads_are_refused_or_repaired_never_crash(kind):
    # Random damage anywhere in the file: the outcome must be a photo or a PhotoRejected,
    # never another exception (which would be a server error).
    clean = ACCEPTED[kind](photo_like((320, 240)))
    rng = random.Random(kind)
    for _ in range(25):
        data = bytearray(clean)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            del data[rng.randrange(len(data)) :]
        try:
            result = normalise(bytes(data))
        except PhotoRejected as exc:
            assert str(exc)
        else:
            assert Image.open(io.BytesIO(result.image)).format == "JPEG"


def test_refusal_message_is_plain_text_outside_a_request():
    # Lazy strings render untranslated with no app context (inside a request they follow
    # the user's locale). Guards the _clean override above, too.
    assert not flask.has_app_context()
    with pytest.raises(PhotoRejected) as info:
        normalise(b"not a photo")
    assert str(info.value) == "This file is not a photo. Use a JPEG, PNG, WebP or HEIC image."
    assert f"{info.value}" == str(info.value)


# --- LocalPhotoStore --------------------------------------------------------------------


def key_of(data):
    return hashlib.sha256(data).hexdigest()


def all_files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_store_put_get_roundtrip(tmp_path):
    store = LocalPhotoStore(tmp_path / "photos")
    assert isinstance(store, PhotoStore)
    data = b"\xff\xd8 pretend jpeg"
    key = key_of(data)
    assert not store.exists(key)

    store.put(key, data)

    assert store.exists(key)
    assert store.get(key) == data
    assert all_files(tmp_path / "photos") == [f"{key[:2]}/{key[2:4]}/{key}.jpg"]


def test_store_put_is_idempotent(tmp_path):
    store = LocalPhotoStore(tmp_path)
    data = b"same photo twice"
    key = key_of(data)
    store.put(key, data)
    store.put(key, data)
    assert store.get(key) == data
    assert len(all_files(tmp_path)) == 1


def test_store_refuses_bytes_that_do_not_match_the_key(tmp_path):
    store = LocalPhotoStore(tmp_path)
    with pytest.raises(ValueError):
        store.put(key_of(b"photo"), b"thumbnail")
    assert all_files(tmp_path) == []


def test_store_missing_key_raises_key_error(tmp_path):
    store = LocalPhotoStore(tmp_path)
    with pytest.raises(KeyError):
        store.get("0" * 64)
    assert not store.exists("0" * 64)


def test_store_delete(tmp_path):
    store = LocalPhotoStore(tmp_path)
    key = key_of(b"x")
    store.put(key, b"x")
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # already gone: no error
    with pytest.raises(KeyError):
        store.get(key)


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "abc",
        "",
        "/" + "a" * 63,
        "a" * 63,
        "a" * 65,
        "A" * 64,  # upper case would make two names for one photo
        "g" * 64,
        "a" * 64 + "\n",
        "../" + "a" * 61,
        "a" * 32 + "/" + "a" * 31,
        None,
        b"a" * 64,
    ],
)
def test_store_rejects_keys_that_are_not_sha256_hex(tmp_path, key):
    store = LocalPhotoStore(tmp_path / "store")
    for call in (
        lambda: store.put(key, b"x"),
        lambda: store.get(key),
        lambda: store.exists(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(ValueError):
            call()
    assert not (tmp_path / "store").exists()


def test_store_leaves_no_temp_files_even_when_the_write_fails(tmp_path, monkeypatch):
    store = LocalPhotoStore(tmp_path)
    good = b"stored fine"
    store.put(key_of(good), good)

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    bad = b"never lands"
    with pytest.raises(OSError):
        store.put(key_of(bad), bad)

    assert not store.exists(key_of(bad))
    assert all_files(tmp_path) == [f"{key_of(good)[:2]}/{key_of(good)[2:4]}/{key_of(good)}.jpg"]


def test_store_files_are_readable_by_a_web_server(tmp_path):
    store = LocalPhotoStore(tmp_path)
    key = key_of(b"y")
    store.put(key, b"y")
    assert store.path_for(key).stat().st_mode & 0o777 == 0o644


def test_normalised_photo_round_trips_through_the_store(tmp_path):
    store = LocalPhotoStore(tmp_path)
    result = normalise(encode(photo_like((800, 600)), "JPEG"))
    store.put(result.sha256, result.image)
    store.put(result.thumb_sha256, result.thumb)
    assert store.get(result.sha256) == result.image
    assert store.get(result.thumb_sha256) == result.thumb
