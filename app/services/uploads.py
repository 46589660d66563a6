"""Turn uploaded files into stored Photo rows: all or nothing."""
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models import Photo, Site, User
from app.services.photos import Normalised, check_request, normalise
from app.services.storage import PhotoStore


def normalise_all(blobs: list[bytes], *, max_count: int | None = None, max_total_pixels: int | None = None,
                  **limits) -> list[Normalised]:
    """Normalise every upload first, so one bad file refuses the request before anything is stored.

    With request caps, every header is read (and the count and declared pixels summed) before any
    file is decoded: thirty crafted 49 MP images are refused at the cost of reading thirty headers.
    """
    if max_count is not None or max_total_pixels is not None:
        check_request(blobs, max_count=max_count if max_count is not None else len(blobs),
                      max_total_pixels=max_total_pixels if max_total_pixels is not None else float("inf"),
                      **{k: v for k, v in limits.items() if k in ("max_bytes", "max_pixels")})
    return [normalise(b, **limits) for b in blobs]


def store_photos(session, store: PhotoStore, site: Site, user: User,
                 images: list[Normalised]) -> list[Photo]:
    """Store normalised images by content hash; the same picture twice is one Photo per site."""
    photos = []
    for img in images:
        store.put(img.sha256, img.image)
        store.put(img.thumb_sha256, img.thumb)
        photo = session.scalar(select(Photo).where(Photo.site_id == site.id, Photo.sha256 == img.sha256))
        if photo is None:
            photo = Photo(site_id=site.id, sha256=img.sha256, thumb_sha256=img.thumb_sha256,
                          width=img.width, height=img.height, size_bytes=len(img.image),
                          uploaded_by_id=user.id)
            try:
                with session.begin_nested():
                    session.add(photo)
            except IntegrityError:  # the same photo sent twice at once
                photo = session.scalar(select(Photo).where(Photo.site_id == site.id,
                                                           Photo.sha256 == img.sha256))
        photos.append(photo)
    return photos
