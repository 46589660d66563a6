"""The demo's seeded history obeys the app's own rules (README: work-order lifecycle), so what the
manager sees on the demo is what the app itself would have produced."""
import re
from html import unescape

import pytest
from flask import current_app
from sqlalchemy import select

from app.models import Answer, WorkOrder
from app.services.seed import seed_history

CJK = re.compile(r"[\u4e00-\u9fff]")
# Status moves the lifecycle allows, event by event (README's diagram).
MOVES = {
    "created": {(None, "open")}, "started": {("open", "in_progress")},
    "resolved": {("open", "resolved"), ("in_progress", "resolved")}, "verified": {("resolved", "closed")},
    "reopened": {("resolved", "open"), ("closed", "open")},
}


@pytest.mark.parametrize("hour", [1, 10, 16, 23])  # UTC: the site's day starts at 16:00 UTC
def test_seeded_history_obeys_the_lifecycle_rules(session, demo, hour):
    """Every fix has an after photo and a Chinese note; every reopen a reason; statuses move as allowed;
    nothing happens after now or before what it follows, whatever the time of day it is seeded."""
    from datetime import timedelta

    from app.models.types import utcnow

    now = utcnow().replace(hour=hour, minute=7)
    assert seed_history(session, demo.site, days=30, now=now) > 40
    store = current_app.extensions["photo_store"]
    orders = session.scalars(select(WorkOrder).where(WorkOrder.site_id == demo.site.id)).all()
    statuses = {o.status for o in orders}
    assert {"open", "closed"} <= statuses and any(o.reopen_count for o in orders)

    for order in orders:
        events = sorted(order.events, key=lambda e: (e.at, e.id))
        assert [e.id for e in events] == [e.id for e in order.events], f"#{order.id}: events out of order {[(e.id, e.kind, e.at.isoformat()) for e in order.events]}"
        assert events[0].kind == "created" and all(e.at <= now + timedelta(seconds=1) for e in events)
        previous = None
        for e in events:
            assert (e.from_status, e.to_status) in MOVES[e.kind], (order.id, e.kind, e.from_status, e.to_status)
            assert e.from_status == previous, (order.id, e.kind, "from", e.from_status, "after", previous)
            previous = e.to_status
            if e.kind == "resolved":
                assert e.photos, f"#{order.id} resolved without an after photo"
                assert all(store.exists(p.sha256) and store.exists(p.thumb_sha256) for p in e.photos)
                assert CJK.search(e.note), f"#{order.id} resolved with the note {e.note!r}"
            if e.kind == "reopened":
                assert CJK.search(e.note), f"#{order.id} reopened without a reason: {e.note!r}"
        assert previous == order.status, f"#{order.id}: history ends {previous}, order is {order.status}"
        assert order.reopen_count == sum(e.kind == "reopened" for e in events)
        if order.status in ("resolved", "closed"):
            assert order.after_photos and order.resolved_at is not None
        if order.status == "closed":
            assert order.closed_at is not None and order.closed_at >= order.resolved_at

    fails = session.scalars(select(Answer).where(Answer.result == "fail")).all()
    assert fails and all(a.photos and CJK.search(a.note) for a in fails), "a failure without photo or note"
    # Running it again adds nothing (the photos are the same pictures, stored once).
    assert seed_history(session, demo.site, days=30, now=now) == 0


def test_a_seeded_fix_shows_its_photos_and_note_in_both_languages(client, auth, session, demo):
    """A verified demo order reads the same in zh and en: before and after photos, the crew's note."""
    seed_history(session, demo.site, days=30)
    order = session.scalars(select(WorkOrder).where(WorkOrder.status == "closed").order_by(WorkOrder.id)).first()
    fix = [e for e in order.events if e.kind == "resolved"][-1]
    auth.login("manager")
    for lang, before, after, none_yet in (("en", "Before", "After", "No photo yet"), ("zh-CN", "处理前", "处理后", None)):
        html = client.get(f"/orders/{order.id}", headers={"Accept-Language": lang}).get_data(as_text=True)
        assert fix.note in html
        beforeafter = html.split('<div class="beforeafter">', 1)[1].split("</div>", 1)[0]
        assert before in beforeafter and after in beforeafter and beforeafter.count("<img") >= 2
        assert none_yet is None or none_yet not in beforeafter
        src = re.search(r'<img[^>]+src="([^"]+)"', beforeafter.split(after, 1)[1]).group(1)
        photo = client.get(unescape(src))
        assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
