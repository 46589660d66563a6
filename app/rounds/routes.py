"""Supervisor rounds: Today, checkpoints, one-tap answers, finishing."""
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.extensions import db
from app.forms import EmptyForm
from app.labels import RESULT_LABELS, local_time
from app.models import Answer, Photo, Round, RoundStop, Schedule
from app.rounds.forms import AnswerForm
from app.services import rounds as svc
from app.services import schedule
from app.services.photos import PhotoRejected
from app.services.policy import can
from app.web import is_partial, load, pdf_response, refused, render, uploaded_photos, user_sites

bp = Blueprint("rounds", __name__)


@bp.get("/today")
@login_required
def today():
    """The rounds due today on each of the user's sites, with their status."""
    if not can(current_user, "walk_rounds"):
        return redirect(url_for("main.home"))
    return render("rounds/today.html", form=EmptyForm(), status_of=schedule.round_status,
                  **svc.today_page(db.session, user_sites()))


@bp.post("/rounds/<int:round_id>/start")
@login_required
def start(round_id: int):
    """Start a saved round (a second tap just opens it) and go to its first checkpoint."""
    return _start(load(Round, round_id, "walk"))


@bp.post("/rounds/planned/<int:schedule_id>/<day>/start")
@login_required
def start_planned(schedule_id: int, day: str):
    """Start the round a schedule plans on a day: it is saved now, once, however many taps or phones."""
    sch = db.session.get(Schedule, schedule_id)
    try:
        the_day = date.fromisoformat(day)
    except ValueError:
        abort(404)
    rnd = schedule.round_of(db.session, sch, the_day) if sch is not None else None
    if rnd is None or not can(current_user, "walk", rnd):
        abort(404)
    return _start(rnd)


def _start(rnd: Round):
    """Start `rnd` for the current user and open its first checkpoint; 409 with the reason if refused."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        rnd = svc.start_round(db.session, rnd, current_user)
    except svc.RoundRefused as e:
        return render("errors/error.html", "errors/_error.html", status_code=409, message=refused(e),
                      path=request.path)
    return redirect(url_for("rounds.checkpoint", round_id=rnd.id, number=1))


@bp.get("/rounds/<int:round_id>")
@login_required
def show(round_id: int):
    """A round in progress: its checkpoints and progress; a finished one: its summary."""
    rnd = load(Round, round_id, "view")
    if rnd.started_at is None:
        return redirect(url_for("rounds.today"))
    groups = svc.stops_by_checkpoint(rnd)
    answers = svc.answers_for(db.session, rnd, rnd.stops)
    per_cp = []
    for group in groups:
        items = [(s, i) for s in group for i in s.version.items]
        done = sum(1 for s, i in items if (a := answers.get((s.id, i.id))) and a.result)
        failed = sum(1 for s, i in items if (a := answers.get((s.id, i.id))) and a.result == "fail")
        per_cp.append((group[0], len(items), done, failed))
    context = dict(rnd=rnd, checkpoints=per_cp, progress=svc.progress(db.session, rnd),
                   status=schedule.round_status(rnd), timing=schedule.timing(rnd))
    if rnd.finished_at is not None:
        return render("rounds/summary.html", orders=svc.orders_raised(db.session, rnd), **context)
    return render("rounds/round.html", **context)


def _checkpoint_group(rnd: Round, number: int) -> list[RoundStop]:
    groups = svc.stops_by_checkpoint(rnd)
    if not 1 <= number <= len(groups):
        abort(404)
    return groups[number - 1]


def checkpoint_context(rnd: Round, number: int, errors=None, drafts=None) -> dict:
    """Everything the checkpoint page needs: its stops, items, answers, orders and neighbours."""
    group = _checkpoint_group(rnd, number)
    rows = [item_context(rnd, row.stop, row.item, row.answer, order=row.order,
                         error=(errors or {}).get((row.stop.id, row.item.id)),
                         draft_note=(drafts or {}).get((row.stop.id, row.item.id)))
            for row in svc.checkpoint_rows(db.session, rnd, group)]
    return dict(rnd=rnd, number=number, count=len(svc.stops_by_checkpoint(rnd)), stop=group[0],
                rows=rows, progress=svc.progress(db.session, rnd), form=EmptyForm(),
                unanswered=sum(1 for r in rows if not (r["answer"] and r["answer"].result)))


def item_context(rnd, stop, item, answer, *, order, error=None, draft_note=None, notice=None,
                 changes=None) -> dict:
    """One item's row: its answer, its work order (the caller's: a page loads them all at once), any
    refusal message and unsaved note, a notice (a later answer from another phone is kept), and how
    many changes the answer has had (default: as loaded with it)."""
    if changes is None and answer is not None:
        changes = answer.change_count
    return dict(rnd=rnd, stop=stop, item=item, answer=answer, error=error, order=order, draft_note=draft_note,
                notice=notice, changes=changes or 0)


@bp.get("/rounds/<int:round_id>/checkpoints/<int:number>")
@login_required
def checkpoint(round_id: int, number: int):
    """One checkpoint's items, each answered with one tap."""
    rnd = load(Round, round_id, "view")
    if rnd.started_at is None:
        return redirect(url_for("rounds.today"))
    return render("rounds/checkpoint.html", **checkpoint_context(rnd, number))


@bp.post("/rounds/<int:round_id>/checkpoints/<int:number>/pass-rest")
@login_required
def pass_rest(round_id: int, number: int):
    """Mark every unanswered item of one checkpoint as pass (answered ones are left alone)."""
    rnd = load(Round, round_id, "walk")
    group = _checkpoint_group(rnd, number)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        n = svc.pass_remaining(db.session, rnd, group, current_user)
        flash(ngettext("%(num)d item marked pass.", "%(num)d items marked pass.", n), "info")
    except svc.RoundRefused as e:
        flash(refused(e), "error")
    return redirect(url_for("rounds.checkpoint", round_id=rnd.id, number=number))


@bp.post("/rounds/<int:round_id>/stops/<int:stop_id>/items/<int:item_id>")
@login_required
def answer(round_id: int, stop_id: int, item_id: int):
    """Save one answer (result, note, photos). htmx gets the item and the progress counter back."""
    rnd, stop, item = _round_item(round_id, stop_id, item_id, "walk")
    form = AnswerForm()
    saved = None
    error, status = None, 200
    if not form.validate_on_submit():
        error, status = _("Choose pass, fail or n.a."), 422
    else:
        try:
            svc.ensure_answerable(rnd)
            # With its photos and order, looked up once; and whether this very tap was stored before.
            existing, repeat = svc.tap_lookup(db.session, stop, item, form.op.data)
            if repeat:  # sent again after its reply was lost: store nothing twice
                saved = svc.Answered(existing, "repeat", existing.change_count)
            else:
                photos = uploaded_photos(form.photos.data, rnd.site, already=len(existing.photos) if existing else 0)
                saved = svc.answer_item(
                    db.session, rnd, stop, item, current_user, result=form.result.data or None,
                    note=form.note.data, photos=photos, max_photos=current_app.config["MAX_PHOTOS_PER_ITEM"],
                    existing=existing, op=form.op.data,
                    at=svc.answered_time(rnd, form.answered_at.data, form.sent_at.data))
        except PhotoRejected as e:  # 422; 503 when the photo store is not answering (try again)
            error, status = refused(e), e.status
        except svc.RoundRefused as e:
            error, status = refused(e), (409 if rnd.finished_at else 422)
    if not is_partial():
        if error:
            number = _number_of(rnd, stop)
            ctx = checkpoint_context(rnd, number, errors={(stop.id, item.id): error},
                                     drafts={(stop.id, item.id): form.note.data})
            return render("rounds/checkpoint.html", status_code=status, **ctx)
        return redirect(url_for("rounds.checkpoint", round_id=rnd.id, number=_number_of(rnd, stop))
                        + f"#item-{stop.id}-{item.id}")
    answer = saved.answer if saved else svc.find_answer(db.session, stop, item)
    ctx = item_context(rnd, stop, item, answer, order=answer.work_order if answer is not None else None,
                       error=error, draft_note=form.note.data if error else None,
                       notice=_superseded(rnd, answer) if saved and saved.outcome == "superseded" else None,
                       changes=saved.changes if saved else None)
    return render("rounds/_answer_response.html", status_code=status,
                  progress=svc.progress(db.session, rnd), **ctx)


def _superseded(rnd: Round, answer: Answer) -> str:
    """Why the item does not show what this phone sent: a later answer is kept."""
    return _("A later answer is kept: %(result)s by %(name)s at %(time)s. Yours is in the item's history.",
             result=RESULT_LABELS[answer.result] if answer.result else _("Not answered"),
             name=answer.answered_by.display_name if answer.answered_by else "",
             time=local_time(answer.answered_at, rnd.site.tz))


@bp.get("/rounds/<int:round_id>/stops/<int:stop_id>/items/<int:item_id>/history")
@login_required
def item_history(round_id: int, stop_id: int, item_id: int):
    """Every change to one item in this round, from whichever phone, oldest first."""
    rnd, stop, item = _round_item(round_id, stop_id, item_id, "view")
    return render("rounds/history.html", rnd=rnd, stop=stop, item=item, number=_number_of(rnd, stop),
                  changes=svc.history(db.session, stop, item))


@bp.post("/rounds/<int:round_id>/answers/<int:answer_id>/photos/<int:photo_id>/remove")
@login_required
def remove_photo(round_id: int, answer_id: int, photo_id: int):
    """Remove a photo from an answer while the round is open."""
    rnd = load(Round, round_id, "walk")
    answer = db.session.get(Answer, answer_id)
    photo = db.session.get(Photo, photo_id)
    if answer is None or photo is None or answer.round_id != rnd.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    error, status = None, 200
    try:
        svc.remove_photo(db.session, rnd, answer, photo)
    except svc.RoundRefused as e:
        error, status = refused(e), 422
    if not is_partial() and not error:
        return redirect(url_for("rounds.checkpoint", round_id=rnd.id, number=_number_of(rnd, answer.stop))
                        + f"#item-{answer.stop_id}-{answer.item_id}")
    if not is_partial():
        ctx = checkpoint_context(rnd, _number_of(rnd, answer.stop),
                                 errors={(answer.stop_id, answer.item_id): error})
        return render("rounds/checkpoint.html", status_code=status, **ctx)
    ctx = item_context(rnd, answer.stop, answer.item, answer, order=answer.work_order, error=error)
    return render("rounds/_answer_response.html", status_code=status,
                  progress=svc.progress(db.session, rnd), **ctx)


def _round_item(round_id: int, stop_id: int, item_id: int, action: str):
    """The round (if the user may `action` it), one of its stops and an item walked there; else 404."""
    rnd = load(Round, round_id, action)
    found = svc.stop_and_item(db.session, rnd, stop_id, item_id)
    if found is None:
        abort(404)
    return rnd, *found


def _number_of(rnd: Round, stop: RoundStop) -> int:
    for n, group in enumerate(svc.stops_by_checkpoint(rnd), start=1):
        if any(s.id == stop.id for s in group):
            return n
    abort(404)


@bp.get("/rounds/<int:round_id>/finish")
@login_required
def review(round_id: int):
    """Before finishing: the unanswered items first, then confirm or go back."""
    rnd = load(Round, round_id, "walk")
    if rnd.finished_at is not None or rnd.started_at is None:
        return redirect(url_for("rounds.show", round_id=rnd.id))
    missing = svc.unanswered(db.session, rnd)
    numbers = {s.id: n for n, g in enumerate(svc.stops_by_checkpoint(rnd), 1) for s in g}
    groups: dict[int, list] = {}
    for stop, item in missing:
        groups.setdefault(numbers[stop.id], []).append((stop, item))
    return render("rounds/finish.html", rnd=rnd, missing=missing, groups=groups, form=EmptyForm(),
                  progress=svc.progress(db.session, rnd))


@bp.post("/rounds/<int:round_id>/finish")
@login_required
def finish(round_id: int):
    """Finish the round; it becomes read-only and shows its summary."""
    rnd = load(Round, round_id, "walk")
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        svc.finish_round(db.session, rnd, current_user)
    except svc.RoundRefused as e:
        refused(e)
        return redirect(url_for("rounds.today"))
    return redirect(url_for("rounds.show", round_id=rnd.id))


@bp.get("/rounds/<int:round_id>/report.pdf")
@login_required
def round_report(round_id: int):
    """The round as a PDF (zh or en), photos included."""
    from app.services import reports

    rnd = load(Round, round_id, "view")
    if rnd.started_at is None:
        abort(404)
    return pdf_response(lambda lang: reports.round_pdf(rnd, db.session, current_app.extensions["photo_store"], lang),
                        f"round-{rnd.date.isoformat()}-{rnd.slot}.pdf")


@bp.get("/scan/<token>")
@login_required
def scan(token: str):
    """A checkpoint's printed QR code, scanned with the phone's camera: check in (once) and open it.

    A GET that changes state, because a camera opens links: it is idempotent (the first check-in
    of the round at that checkpoint stands) and safe to open twice.
    """
    from app.services import compliance

    try:
        got = compliance.scan(db.session, current_user, token)
    except compliance.ScanRefused as e:
        refused(e)
        return render("rounds/scan_refused.html", status_code=e.status,
                      refusal=e, walks_rounds=any(can(current_user, "walk_rounds", s) for s in user_sites()))
    rnd, cp = got.round, got.checkpoint
    at = local_time(got.check_in.at, rnd.site.tz)
    if got.first:
        flash(_("Checked in here at %(time)s.", time=at), "info")
    else:
        flash(_("Already checked in here at %(time)s; nothing new was recorded.", time=at), "info")
    numbers = {g[0].checkpoint_id: n for n, g in enumerate(svc.stops_by_checkpoint(rnd), start=1)}
    return redirect(url_for("rounds.checkpoint", round_id=rnd.id, number=numbers[cp.id]))
