"""Rounds (one walk of a route in a slot on a date), their stops and answers."""
from datetime import date, datetime, timedelta

from sqlalchemy import Column, Date, ForeignKey, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from app.extensions import db
from app.models.checklist import ChecklistItem, TemplateVersion
from app.models.photo import Photo
from app.models.route import Checkpoint, Route, Schedule
from app.models.site import Area, Site
from app.models.types import UTCDateTime, utcnow

RESULTS = ("pass", "fail", "na")

answer_photo = Table(
    "answer_photo",
    db.metadata,
    Column("answer_id", ForeignKey("answer.id"), primary_key=True),
    Column("photo_id", ForeignKey("photo.id"), primary_key=True),
)


class Round(db.Model):
    __table_args__ = (UniqueConstraint("schedule_id", "date"), Index("ix_round_site_date", "site_id", "date"))
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    route_id: Mapped[int] = mapped_column(ForeignKey("route.id"))
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedule.id"))
    date: Mapped[date] = mapped_column(Date, index=True)  # the site's local date
    slot: Mapped[str] = mapped_column(String(16))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[datetime] = mapped_column(UTCDateTime)
    tolerance_minutes: Mapped[int]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    site: Mapped[Site] = relationship()
    route: Mapped[Route] = relationship()
    schedule: Mapped[Schedule] = relationship()
    supervisor = relationship("User")
    stops: Mapped[list["RoundStop"]] = relationship(
        back_populates="round", order_by="RoundStop.position"
    )


class RoundStop(db.Model):
    """A checkpoint of a round with the template version frozen when the round started."""

    __table_args__ = (UniqueConstraint("round_id", "checkpoint_id", "version_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"), index=True)
    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("checkpoint.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("template_version.id"))
    position: Mapped[int]
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"))

    round: Mapped[Round] = relationship(back_populates="stops")
    checkpoint: Mapped[Checkpoint] = relationship()
    version: Mapped[TemplateVersion] = relationship()
    area: Mapped[Area] = relationship()


class Answer(db.Model):
    """One answer per (round, stop, item); answering again updates it."""

    # (round, result) serves both "this round's answers" and "this round's failures". The dashboard
    # counts the failures of many rounds from ix_answer_fail alone: failed answers only (a few in a
    # hundred), with the item and stop, so the answers themselves are not read.
    __table_args__ = (UniqueConstraint("stop_id", "item_id"), Index("ix_answer_round_result", "round_id", "result"),
                      Index("ix_answer_fail", "round_id", "result", "item_id", "stop_id",
                            sqlite_where=text("result = 'fail'"), postgresql_where=text("result = 'fail'")))
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id"))
    stop_id: Mapped[int] = mapped_column(ForeignKey("round_stop.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_item.id"))
    result: Mapped[str | None] = mapped_column(String(8))  # None: only a note/photo so far
    note: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stop: Mapped[RoundStop] = relationship()
    item: Mapped[ChecklistItem] = relationship()
    answered_by = relationship("User")
    photos: Mapped[list[Photo]] = relationship(secondary=answer_photo, order_by="Photo.id")
    # The order a failed answer raised (one per answer, ever): loaded with the answer on the tap path.
    work_order = relationship("WorkOrder", back_populates="answer", uselist=False)
    # Every change, oldest first: the phone's op id makes a resent change recognisable.
    changes: Mapped[list["AnswerChange"]] = relationship(back_populates="answer", order_by="AnswerChange.id")
    # How many changes it has had, where a query loaded it (rounds.WITH_CHANGE_COUNT); else None.
    change_count: Mapped[int | None] = query_expression()


class AnswerChange(db.Model):
    """One change to an answer as a phone sent it (append-only). `answered_at` is when it was
    answered on the phone, `received_at` when it arrived; `kept` is False when a later answer from
    another phone was already stored, so this one is history only."""

    __table_args__ = (UniqueConstraint("op", name="uq_answer_change_op"),
                      Index("ix_answer_change_answer", "answer_id", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answer.id"))
    op: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text, default="")
    photo_count: Mapped[int] = mapped_column(default=0)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kept: Mapped[bool] = mapped_column(default=True)

    answer: Mapped[Answer] = relationship(back_populates="changes")
    by = relationship("User")

    @property
    def sent_late(self) -> bool:
        """Kept on the phone (no signal) and sent later, not as it was tapped."""
        return self.received_at - self.answered_at > timedelta(minutes=2)
