"""Handover: CSV import, the walk, signing, rectification orders, owner links, re-inspection."""
import base64
import io
from datetime import timedelta

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from app.models import Building, Defect, Photo, Unit, WorkOrder
from app.services import handover as ho
from app.services import workorders as wo

GOOD_CSV = """building,unit,floor,room,owner_name,owner_phone,bedrooms,bathrooms
5,1,3,301,陈先生,138 0000 0001,3,2
5,1,3,302,林女士,+86 139-0000-0002,2,1
"""


def signature(ink=True, shift=0) -> str:
    """A PNG data URL like the pad sends; `shift` makes a different-looking signature."""
    img = Image.new("RGBA", (300, 120), (255, 255, 255, 0))
    if ink:
        ImageDraw.Draw(img).line([(10, 100), (80, 20 + shift), (150, 90), (290, 30 + shift)],
                                 fill=(0, 0, 0, 255), width=4)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


@pytest.fixture
def unit(demo, session):
    return session.scalar(select(Unit).where(Unit.room == "1201", Unit.unit_no == "1"))


@pytest.fixture
def photo(demo, session):
    p = Photo(site_id=demo.site.id, sha256="e" * 64, thumb_sha256="f" * 64, width=1, height=1, size_bytes=1)
    session.add(p)
    session.commit()
    return p


def test_demo_building_has_units_with_owners(demo, session):
    assert session.scalar(select(func.count(Unit.id))) == 48


def test_import_good_csv(demo, session):
    report = ho.import_units(session, demo.site, GOOD_CSV.encode())
    assert (report.created, report.problems) == (2, [])
    unit = session.scalar(select(Unit).join(Building).where(Building.code == "5", Unit.room == "301"))
    assert (unit.label, unit.bedrooms, unit.bathrooms, unit.owner_name) == ("5-1-301", 3, 2, "陈先生")


def test_import_with_bad_rows_imports_nothing_and_says_why(demo, session, app):
    bad = GOOD_CSV + ("5,1,3,301,dup,,2,1\n"        # duplicate in the file
                      ",1,4,401,x,,2,1\n"           # missing building
                      "5,1,4,402,x,12ab,2,1\n"      # malformed phone
                      "3,1,12,1201,x,,2,1\n")       # exists already (demo building 3)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        report = ho.import_units(session, demo.site, bad.encode())
    lines = dict(report.problems)
    assert report.created == 0 and sorted(lines) == [4, 5, 6, 7]
    assert "appears twice (also on line 2)" in lines[4]
    assert "building is missing" in lines[5]
    assert "12ab" in lines[6] and "not valid" in lines[6]
    assert "3-1-1201 already exists" in lines[7]
    assert session.scalar(select(func.count(Unit.id))) == 48


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00binary", b"just some words\nno header here\n"])
def test_not_a_csv_is_refused(demo, session, data):
    report = ho.import_units(session, demo.site, data)
    assert report.created == 0 and report.problems and report.problems[0][0] in (0, 1)


def test_rooms_repeat_bedrooms_and_bathrooms(demo, session, unit):
    version = ho.template_version(session)
    keys = [k for k, _, _ in ho.rooms(unit, version)]
    assert keys == ["entrance", "living_room", "bedroom-1", "bedroom-2", "bedroom-3", "kitchen",
                    "bathroom-1", "bathroom-2", "balcony", "whole_unit"]


def walk(session, demo, unit, photo):
    engineer = demo.users["engineer"]
    insp = ho.start_inspection(session, unit, engineer, "张伟")
    bedroom_item = next(i for i in insp.version.items if i.room == "bedroom")
    ho.answer(session, insp, "bedroom-2", bedroom_item, engineer, result="defect",
        location="north wall, 1 m from the window", description="hairline crack", photos=[photo])
    kitchen_item = next(i for i in insp.version.items if i.room == "kitchen")
    ho.answer(session, insp, "kitchen", kitchen_item, engineer, result="defect", photos=[photo],
              team=demo.teams["contractor_huajian"])
    ho.add_concern(session, insp, "balcony", "Drying rack too low for long clothes", [photo])
    return insp


def test_defect_needs_a_photo_when_the_item_says_so(demo, session, unit):
    insp = ho.start_inspection(session, unit, demo.users["engineer"], "张伟")
    it = next(i for i in insp.version.items if i.room == "kitchen" and i.photo_required_on_fail)
    with pytest.raises(ho.HandoverRefused):
        ho.answer(session, insp, "kitchen", it, demo.users["engineer"], result="defect")
    session.rollback()
    assert session.scalar(select(func.count(Defect.id))) == 0


def test_signing_raises_rectification_orders_and_freezes_the_record(demo, session, unit, photo, app):
    insp = walk(session, demo, unit, photo)
    session.commit()  # the walk's requests committed; the refused signing below rolls back only itself
    store = app.extensions["photo_store"]
    with pytest.raises(ho.HandoverRefused):  # a blank pad is not a signature
        ho.sign(session, store, insp, demo.users["engineer"], engineer_name="刘工", owner_name="张伟",
                engineer_sig=signature(), owner_sig=signature(ink=False))
    session.rollback()
    assert not insp.signed
    ho.sign(session, store, insp, demo.users["engineer"], engineer_name="刘工", owner_name="张伟",
            engineer_sig=signature(), owner_sig=signature())
    orders = session.scalars(select(WorkOrder).order_by(WorkOrder.id)).all()
    assert len(orders) == 3 and all(o.source == "handover" and o.unit_id == unit.id for o in orders)
    assert {o.team.code for o in orders} >= {"contractor_huajian"}
    assert all(o.due_at - o.created_at == timedelta(days=15) for o in orders)
    assert orders[0].title_zh.startswith("3-1-1201 ")
    assert store.get(insp.owner_signature)[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ho.HandoverRefused):
        ho.add_concern(session, insp, "balcony", "one more", [])
    assert ho.unit_status(session, unit) == "defects_open"


def close_all(session, demo, unit, photo):
    sup = demo.users["supervisor"]
    for d in ho.open_defects(session, unit):
        o = d.work_order
        o.status = "in_progress"
        session.commit()
        wo.act(session, o, sup, "resolve", note="fixed", photos=[photo])
        wo.act(session, o, sup, "verify")


def test_reinspection_reject_reopens_then_accept_all_ready_for_handover(demo, session, unit, photo, app):
    store = app.extensions["photo_store"]
    insp = walk(session, demo, unit, photo)
    eng = demo.users["engineer"]
    ho.sign(session, store, insp, eng, engineer_name="刘工", owner_name="张伟",
            engineer_sig=signature(), owner_sig=signature())
    with pytest.raises(ho.HandoverRefused):
        ho.start_reinspection(session, unit, eng, "张伟")
    close_all(session, demo, unit, photo)
    assert ho.unit_status(session, unit) == "ready_for_reinspection"
    re1 = ho.start_reinspection(session, unit, eng, "张伟")
    session.commit()  # each step is a request of its own: a refusal rolls back only itself
    defects = ho.open_defects(session, unit)
    with pytest.raises(ho.HandoverRefused):  # a rejection needs a reason and a photo
        ho.check_defect(session, re1, defects[0], eng, "rejected", reason="still cracked")
    session.rollback()
    ho.check_defect(session, re1, defects[0], eng, "rejected", reason="still cracked", photos=[photo])
    assert defects[0].work_order.status == "open" and defects[0].work_order.reopen_count == 1
    session.commit()
    with pytest.raises(ho.HandoverRefused):  # every defect checked before signing
        ho.sign(session, store, re1, eng, engineer_name="刘工", owner_name="张伟",
                engineer_sig=signature(), owner_sig=signature())
    session.rollback()
    for d in defects[1:]:
        ho.check_defect(session, re1, d, eng, "accepted")
    ho.sign(session, store, re1, eng, engineer_name="刘工", owner_name="张伟",
            engineer_sig=signature(), owner_sig=signature())
    assert [d.id for d in ho.open_defects(session, unit)] == [defects[0].id]
    close_all(session, demo, unit, photo)
    re2 = ho.start_reinspection(session, unit, eng, "张伟")
    ho.check_defect(session, re2, defects[0], eng, "accepted")
    ho.sign(session, store, re2, eng, engineer_name="刘工", owner_name="张伟",
            engineer_sig=signature(), owner_sig=signature())
    assert ho.unit_status(session, unit) == "ready_for_handover"


def test_owner_link_valid_revoked_expired_altered(demo, session, unit):
    token, link = ho.create_owner_link(session, unit, demo.users["engineer"])
    assert ho.owner_link(session, token).unit_id == unit.id
    assert ho.owner_link(session, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert ho.owner_link(session, token, now=link.expires_at + timedelta(seconds=1)) is None
    token2, _ = ho.create_owner_link(session, unit, demo.users["engineer"])
    assert ho.owner_link(session, token) is None  # a new link replaces the old one
    ho.revoke_owner_links(session, unit)
    assert ho.owner_link(session, token2) is None
    assert len(token) >= 40


def test_photo_first_then_defect_and_unused_drafts_vanish_at_signing(demo, session, unit, photo, app):
    eng = demo.users["engineer"]
    insp = ho.start_inspection(session, unit, eng, "张伟")
    kitchen = [i for i in insp.version.items if i.room == "kitchen" and i.photo_required_on_fail][:2]
    ho.answer(session, insp, "kitchen", kitchen[0], eng, result=None, photos=[photo])  # photo first
    ho.answer(session, insp, "kitchen", kitchen[0], eng, result="defect")              # then the tap
    ho.answer(session, insp, "kitchen", kitchen[1], eng, result=None, photos=[photo])  # photo, no tap
    assert [d.item_id for d in ho.recorded_defects(session, insp)] == [kitchen[0].id]
    ho.sign(session, app.extensions["photo_store"], insp, eng, engineer_name="刘工", owner_name="张伟",
            engineer_sig=signature(), owner_sig=signature())
    assert session.scalar(select(func.count(Defect.id))) == 1
    assert session.scalar(select(func.count(WorkOrder.id))) == 1


def test_rectification_order_names_the_room_where_and_what(demo, session, unit, photo, app):
    """The crew reads which bedroom, where in it and what is wrong, in the order's title."""
    insp = walk(session, demo, unit, photo)
    ho.sign(session, app.extensions["photo_store"], insp, demo.users["engineer"], engineer_name="刘工",
            owner_name="张伟", engineer_sig=signature(), owner_sig=signature())
    bedroom = session.scalar(select(Defect).where(Defect.room_key == "bedroom-2")).work_order
    assert bedroom.title_zh == "3-1-1201 卧室 2（north wall, 1 m from the window） · hairline crack"
    assert bedroom.title_en == "3-1-1201 Bedroom 2 (north wall, 1 m from the window) · hairline crack"
    assert "hairline crack" in bedroom.description and "north wall" in bedroom.description
    kitchen = session.scalar(select(Defect).where(Defect.room_key == "kitchen"))
    # Nothing written: the checklist's wording says what is wrong.
    assert kitchen.work_order.title_en == f"3-1-1201 Kitchen · {kitchen.item.text_en}"
    concern = session.scalar(select(Defect).where(Defect.owner_concern.is_(True))).work_order
    assert concern.title_zh == "3-1-1201 阳台 · Drying rack too low for long clothes"
    assert [p.id for p in concern.before_photos] == [photo.id]


def test_rectification_orders_queue_the_teams_webhook(demo, session, unit, photo, app):
    """Every raised order queues its team's webhook, a rectification order too (one constructor)."""
    from app.models import WebhookDelivery

    for code in ("engineering", "contractor_huajian"):
        demo.teams[code].webhook_url = f"http://hooks.example/{code}"
    session.commit()
    insp = walk(session, demo, unit, photo)
    ho.sign(session, app.extensions["photo_store"], insp, demo.users["engineer"], engineer_name="刘工",
            owner_name="张伟", engineer_sig=signature(), owner_sig=signature())
    deliveries = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    orders = session.scalars(select(WorkOrder).order_by(WorkOrder.id)).all()
    assert [(d.order_id, d.event) for d in deliveries] == [(o.id, "raised") for o in orders]
    assert {d.url for d in deliveries} == {"http://hooks.example/engineering",
                                           "http://hooks.example/contractor_huajian"}
    assert all(o.events[0].kind == "created" for o in orders)

