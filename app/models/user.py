"""Users, their roles, sites and teams; login throttling."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.site import Site, Team
from app.models.types import UTCDateTime

ROLES = ("supervisor", "crew", "manager", "admin", "engineer")
# Werkzeug's default (scrypt). The test suite swaps in a cheap method to stay fast.
PASSWORD_HASH_METHOD = "scrypt"

user_site = Table(
    "user_site",
    db.metadata,
    Column("user_id", ForeignKey("user.id"), primary_key=True),
    Column("site_id", ForeignKey("site.id"), primary_key=True),
)
user_team = Table(
    "user_team",
    db.metadata,
    Column("user_id", ForeignKey("user.id"), primary_key=True),
    Column("team_id", ForeignKey("team.id"), primary_key=True),
)


def hash_password(password: str) -> str:
    """A salted hash of the password."""
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)

    sites: Mapped[list[Site]] = relationship(secondary=user_site, order_by="Site.id")
    teams: Mapped[list[Team]] = relationship(secondary=user_team, order_by="Team.id")

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def site_ids(self) -> set[int]:
        return {s.id for s in self.sites}

    @property
    def team_ids(self) -> set[int]:
        return {t.id for t in self.teams}


class LoginThrottle(db.Model):
    """Failed logins per key (a username or a client address), for lock-outs."""

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
