"""Photos: normalised images stored by content hash."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.types import UTCDateTime, utcnow


class Photo(db.Model):
    """A normalised photo on one site; the bytes live in the photo store under their hash."""

    __table_args__ = (UniqueConstraint("site_id", "sha256"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    thumb_sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A photo the user drew on before saving: the unmarked photo it was drawn on (shown to staff only).
    original_id: Mapped[int | None] = mapped_column(ForeignKey("photo.id"))
    original: Mapped["Photo | None"] = relationship(remote_side=[id])
