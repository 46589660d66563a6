"""Turn uploaded files into stored Photo rows: all or nothing.

A photo the user drew on (static/markup.js) arrives as two files: the marked-up picture in the photo
field and the picture it was drawn on in the field "originals", under the same file name (the phone
names both, so the pair survives being kept offline and sent later with other changes). Both go
through the same checks and normalisation; the marked photo is the one attached and shown.
"""
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import Photo, Site, User
from app.services.photos import Normalised, PhotoRejected, check_request, normalise
from app.services.storage import PhotoStore


def normalise_all(blobs: list[bytes], *, max_count: int | None = None, max_total_pixels: int | None = None,
                  pictures: int | None = None, **limits) -> list[Normalised]:
    """Normalise every upload first, so one bad file refuses the request before anything is stored.

    With request caps, every header is read (and the count and declared pixels summed) before any
    file is decoded: thirty crafted 49 MP images are refused at the cost of reading thirty headers.
    `pictures` is what the count cap counts when some blobs are originals of marked-up photos (a photo
    and its original are one picture to the user); the pixels of every blob count.
    """
    if max_count is not None or max_total_pixels is not None:
        check_request(blobs, max_count=max_count if max_count is not None else len(blobs),
                      max_total_pixels=max_total_pixels if max_total_pixels is not None else float("inf"),
                      pictures=pictures,
                      **{k: v for k, v in limits.items() if k in ("max_bytes", "max_pixels")})
    return [normalise(b, **limits) for b in blobs]


def pair_originals(photo_names: list[str], original_names: list[str]) -> list[int | None]:
    """For each photo, the index of its original among the originals (None: not drawn on).

    Refused: an original whose photo is not in the request, or two originals for one photo."""
    where = {}
    for i, name in enumerate(original_names):
        if not name or name in where:
            raise PhotoRejected(_l("A marked-up photo arrived without its original. Choose the photo again."))
        where[name] = i
    pairs = [where.pop(name, None) if name else None for name in photo_names]
    if where:
        raise PhotoRejected(_l("A marked-up photo arrived without its original. Choose the photo again."))
    return pairs


def link_originals(photos: list[Photo], originals: list[Photo], pairs: list[int | None]) -> None:
    """Give each marked-up photo its original (a photo drawn on with nothing drawn is its own: no link)."""
    for photo, j in zip(photos, pairs):
        if j is not None and originals[j].id != photo.id and photo.original_id is None:
            photo.original = originals[j]


def store_photos(session, store: PhotoStore, site: Site, user: User | None,
                 images: list[Normalised]) -> list[Photo]:
    """Store normalised images by content hash; the same picture twice is one Photo per site.
    (`user` None: sent by a resident, who has no account.)"""
    photos = []
    for img in images:
        store.put(img.sha256, img.image)
        store.put(img.thumb_sha256, img.thumb)
        photo = session.scalar(select(Photo).where(Photo.site_id == site.id, Photo.sha256 == img.sha256))
        if photo is None:
            photo = Photo(site_id=site.id, sha256=img.sha256, thumb_sha256=img.thumb_sha256,
                          width=img.width, height=img.height, size_bytes=len(img.image),
                          uploaded_by_id=user.id if user else None)
            try:
                with session.begin_nested():
                    session.add(photo)
            except IntegrityError:  # the same photo sent twice at once
                photo = session.scalar(select(Photo).where(Photo.site_id == site.id,
                                                           Photo.sha256 == img.sha256))
        photos.append(photo)
    return photos
