"""Users, their roles, sites and teams; failed logins for throttling."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, Index, String, Table, false
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


_dummy_hashes: dict[str, str] = {}


def check_dummy_password(password: str) -> bool:
    """The same work as checking a real password (same method and cost), for unknown usernames:
    without it an unknown name answers several times faster, which tells an attacker who exists."""
    stored = _dummy_hashes.get(PASSWORD_HASH_METHOD)
    if stored is None:
        stored = _dummy_hashes[PASSWORD_HASH_METHOD] = hash_password("not-a-password-anyone-has")
    check_password_hash(stored, password)
    return False


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the id stored in the session cookie: raising it ends every session of the user
    # (logout, a password change or reset, deactivation), copied cookies included.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    sites: Mapped[list[Site]] = relationship(secondary=user_site, order_by="Site.id")
    teams: Mapped[list[Team]] = relationship(secondary=user_team, order_by="Team.id")

    def set_password(self, password: str) -> None:
        self.password_hash = hash_password(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:
        """What the session stores: the id and the session epoch ("12.3")."""
        return f"{self.id}.{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def site_ids(self) -> set[int]:
        return {s.id for s in self.sites}

    @property
    def team_ids(self) -> set[int]:
        return {t.id for t in self.teams}


class LoginFailure(db.Model):
    """One failed (or in-flight) login: inserted per attempt, so parallel attempts are all counted.
    Throttling counts these rows per (username, address) and per address; a success deletes its pair."""

    __table_args__ = (Index("ix_login_failure_username_address_at", "username", "address", "at"),
                      Index("ix_login_failure_address_at", "address", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))  # as typed, lower-cased
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # False while the password is being checked; True once it failed (a success deletes the row).
    decided: Mapped[bool] = mapped_column(default=False, server_default=false())
