"""Finger-drawn signatures from the sign page's pads: checked, decoded and re-encoded before storage.

A pad sends a PNG data URL in a hidden field. Everything else that can arrive there (another
format, a decompression bomb, an animation, a PNG carrying GPS in an eXIf chunk, text chunks,
broken base64) is refused with a message for the signer, or reduced to a fresh greyscale PNG of
the first frame on white: the stored bytes never are the bytes that were sent.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from app.services.handover import HandoverRefused
from app.services.photos import PhotoRejected, PhotoTooLarge, decode_guarded
from app.services.storage import PhotoStore

PREFIX = "data:image/png;base64,"
# The pad's canvas is 600x240 and its PNG some 10-40 KB; these leave room for a larger pad
# (a 3x phone screen) while refusing anything a finger could not have drawn.
MAX_DATA_URL = 512 * 1024
MAX_PNG_BYTES = MAX_DATA_URL * 3 // 4
MAX_PIXELS = 4_000_000
MAX_EDGE = 4096
# Ink = dark pixels once flattened on white; fewer than this is an empty pad or a stray tap.
MIN_INK = 20
PADS = ("engineer", "owner")


class SignatureRefused(HandoverRefused):
    """One or both signatures refused; ``pads`` maps each refused pad to its message, ``message`` is all of them."""

    def __init__(self, pads: dict[str, LazyString]) -> None:
        Exception.__init__(self)  # HandoverRefused's would set the message this class works out
        self.pads = pads

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        """The refusals in the current locale, each once (two blank pads say it once)."""
        return " ".join(dict.fromkeys(str(m) for m in self.pads.values()))


def _label(who: str) -> LazyString:
    return _l("Engineer") if who == "engineer" else _l("Owner")


def _blank() -> LazyString:
    return _l("Both people must sign on the screen.")


def _unreadable(who: str) -> LazyString:
    return _l("%(who)s: the signature could not be read. Clear the pad and sign again.", who=_label(who))


def _too_large(who: str) -> LazyString:
    return _l("%(who)s: the signature is too large. Clear the pad and sign again.", who=_label(who))


def normalise(data_url: str | None, who: str) -> bytes:
    """The pad's data URL as a fresh PNG (greyscale, first frame, no chunks but the image's own);
    SignatureRefused for a blank, unreadable or oversized one."""
    if not data_url:
        raise SignatureRefused({who: _blank()})
    if len(data_url) > MAX_DATA_URL:  # before decoding anything, base64 included
        raise SignatureRefused({who: _too_large(who)})
    if not data_url.startswith(PREFIX):
        raise SignatureRefused({who: _unreadable(who)})
    try:
        raw = base64.b64decode(data_url[len(PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise SignatureRefused({who: _unreadable(who)}) from None
    try:
        img = decode_guarded(raw, formats=("PNG",), max_bytes=MAX_PNG_BYTES, max_pixels=MAX_PIXELS,
                             max_edge=MAX_EDGE)
    except PhotoTooLarge:
        raise SignatureRefused({who: _too_large(who)}) from None
    except PhotoRejected:
        raise SignatureRefused({who: _unreadable(who)}) from None
    grey = img.convert("L")
    if sum(grey.histogram()[:200]) < MIN_INK:
        raise SignatureRefused({who: _blank()})
    grey.info = {}  # nothing from the upload rides along (Pillow's PNG writer reads info)
    buf = io.BytesIO()
    grey.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def normalise_both(engineer: str | None, owner: str | None) -> dict[str, bytes]:
    """Both pads as fresh PNGs; one SignatureRefused naming every pad that was refused."""
    pngs, refused = {}, {}
    for who, data_url in zip(PADS, (engineer, owner)):
        try:
            pngs[who] = normalise(data_url, who)
        except SignatureRefused as exc:
            refused.update(exc.pads)
    if refused:
        raise SignatureRefused(refused)
    return pngs


def store(photo_store: PhotoStore, png: bytes) -> str:
    """Keep a normalised signature under its content hash; the key goes on the inspection."""
    key = hashlib.sha256(png).hexdigest()
    photo_store.put(key, png)
    return key
