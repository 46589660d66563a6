"""A hostile pass over the residents' public routes (no account, so anyone may send anything): the
report form behind a place's code, the private follow-up link, its one-tap answer and its photos.
Every case: a clear message in the resident's language, nothing changed, never a 500."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Photo, ResidentReport, WorkOrder, WorkOrderEvent
from app.services import residents as svc
from app.services import workorders as wo
from tests.conftest import csrf_from
from tests.web.helpers import jpeg_bytes, uploaded_files
from tests.web.test_hostile_inputs import HOSTILE_FILES, HOSTILE_NEXT


@pytest.fixture
def lobby(demo):
    place = svc.new_place(db.session, demo.site, kind="lobby", name_zh="3号楼大堂", name_en="Building 3 lobby")
    db.session.commit()
    return place


def english(client):
    """This resident switched the page to English."""
    with client.session_transaction() as sess:
        sess["lang"] = "en"


def hidden_fields(html: str) -> dict:
    """The hidden fields of the report form on a page (its CSRF token and its once-key)."""
    form = html[html.index('class="report-form"'):]
    form = form[:form.index("</form>")]
    out = {}
    for tag in re.findall(r"<input[^>]*>", form):
        if 'type="hidden"' in tag:
            name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
            out[name.group(1)] = value.group(1) if value else ""
    return out


def form_of(client, place) -> tuple[str, dict]:
    """The report page and the hidden fields of its form."""
    html = client.get(f"/r/{place.code}").get_data(as_text=True)
    return html, hidden_fields(html)


def post(client, place, hidden, photos=(), **fields):
    data = {**hidden, "category": "cleaning", "description": "大堂地面有积水", **fields}
    if photos:
        data["photos"] = list(photos)
    return client.post(f"/r/{place.code}", data=data, content_type="multipart/form-data")


def reports() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(ResidentReport.id)))


def orders() -> int:
    return db.session.scalar(select(func.count(WorkOrder.id)))


def no_server_error(resp):
    assert resp.status_code < 500, resp.get_data(as_text=True)[:400]
    return resp


# ---- the report form -----------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["forged", "", None])
def test_forged_or_missing_csrf_is_refused_in_chinese_with_the_text_kept(client, demo, lobby, token):
    _html, hidden = form_of(client, lobby)
    hidden = {k: v for k, v in hidden.items() if k != "csrf_token"}
    if token is not None:
        hidden["csrf_token"] = token
    resp = post(client, lobby, hidden, description="积水很深")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "页面已过期" in html and "积水很深" in html
    assert reports() == orders() == 0


def test_a_stale_page_from_an_earlier_visit_is_refused_and_a_fresh_one_works(app, client, demo, lobby):
    """The form was opened in another session (the cookie is gone): the token is refused, the text kept,
    and the page it answers carries a working token."""
    _html, hidden = form_of(client, lobby)
    fresh = app.test_client()
    english(fresh)
    resp = post(fresh, lobby, hidden, description="Water on the floor")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "This page has expired" in html and "Water on the floor" in html
    assert reports() == 0
    again = post(fresh, lobby, hidden_fields(html))
    assert again.status_code == 303 and reports() == 1


def test_a_page_opened_before_its_code_was_withdrawn_is_refused(client, demo, lobby):
    _html, hidden = form_of(client, lobby)
    svc.revoke_place(db.session, lobby)
    db.session.commit()
    resp = post(client, lobby, hidden)
    assert resp.status_code == 410 and "此二维码已停用" in resp.get_data(as_text=True)
    assert reports() == 0


def test_a_double_tap_sends_one_report_and_both_land_on_its_link(client, demo, lobby):
    _html, hidden = form_of(client, lobby)
    first = post(client, lobby, hidden, photos=[(io.BytesIO(jpeg_bytes()), "a.jpg")])
    second = post(client, lobby, hidden, photos=[(io.BytesIO(jpeg_bytes()), "a.jpg")])
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert reports() == orders() == 1
    assert db.session.scalar(select(func.count(Photo.id))) == 1
    assert client.get(second.headers["Location"]).status_code == 200


def test_a_new_page_after_sending_sends_a_new_report(client, demo, lobby):
    for text in ("一楼积水", "二楼积水"):
        _html, hidden = form_of(client, lobby)
        assert post(client, lobby, hidden, description=text).status_code == 303
    assert reports() == 2


@pytest.mark.parametrize("once", ["", "x" * 500, "\r\n", "../../etc", "短"])
def test_a_missing_or_hostile_once_key_is_a_stale_page(client, demo, lobby, once):
    _html, hidden = form_of(client, lobby)
    hidden["once"] = once
    resp = no_server_error(post(client, lobby, hidden, description="积水很深"))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "页面已过期" in html and "积水很深" in html
    assert reports() == 0


def test_an_oversize_description_is_refused_with_a_message(client, demo, lobby):
    _html, hidden = form_of(client, lobby)
    resp = post(client, lobby, hidden, description="水" * 1001)
    assert resp.status_code == 422 and "1000" in resp.get_data(as_text=True)
    assert reports() == 0


@pytest.mark.parametrize("multipart", [True, False])
def test_a_description_of_megabytes_is_refused_unread_with_a_message(client, demo, lobby, multipart):
    from werkzeug.test import encode_multipart

    _html, hidden = form_of(client, lobby)
    fields = {**hidden, "category": "cleaning", "description": "x" * (3 * 1024 * 1024)}
    if multipart:  # encoded here: the test client would spool 3 MB to a temporary file it leaves open
        boundary, body = encode_multipart(fields)
        huge = client.post(f"/r/{lobby.code}", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    else:
        huge = client.post(f"/r/{lobby.code}", data=fields)
    no_server_error(huge)
    html = huge.get_data(as_text=True)
    assert len(html) < 50_000  # not echoed back
    assert huge.status_code == 413 and "太大" in html and "1000" in html and 'name="once"' in html
    assert reports() == 0


@pytest.mark.parametrize("field", ["unit", "phone"])
def test_oversize_contact_fields_are_refused(client, demo, lobby, field):
    _html, hidden = form_of(client, lobby)
    resp = post(client, lobby, hidden, **{field: "1" * 200})
    assert resp.status_code == 422 and reports() == 0


CONTROL = "积水\x00\x01\x08\x0b\x0c\x1b[31m\x7f\u202e\u200b\ufeff 😀"


def test_control_characters_are_dropped_and_unicode_kept(client, demo, lobby):
    _html, hidden = form_of(client, lobby)
    resp = no_server_error(post(client, lobby, hidden, description=CONTROL + "\r\n第二行\t完", unit="3-1\x00-1201"))
    assert resp.status_code == 303
    report = db.session.scalar(select(ResidentReport))
    assert report.description == "积水[31m 😀\n第二行\t完"
    assert report.unit == "3-1-1201"
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202e\u200b\ufeff]", report.order.title_zh)


def test_only_control_characters_is_an_empty_description(client, demo, lobby):
    _html, hidden = form_of(client, lobby)
    resp = no_server_error(post(client, lobby, hidden, description="\x00\x1b\u200b"))
    assert resp.status_code == 422 and "请" in resp.get_data(as_text=True) and reports() == 0


@pytest.mark.parametrize("code", ["%00", "a%00b", "%E5%A4%A7%E5%A0%82", "a%0d%0aSet-Cookie:x", "x" * 200,
                                  "..%5C..%5Cetc", "%F0%9F%98%80", "%ff%fe", "%C0%AE"])
def test_a_hostile_place_code_is_a_code_not_in_use(client, demo, lobby, code):
    for method in (client.get, client.post):
        resp = no_server_error(method(f"/r/{code}", data={"category": "cleaning", "description": "x"}))
        assert resp.status_code == 404 and "此二维码已停用" in resp.get_data(as_text=True)
    assert reports() == 0


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_hostile_file_on_a_report_is_refused_in_the_residents_language(client, app, demo, lobby, name):
    english(client)
    _html, hidden = form_of(client, lobby)
    data, expected = HOSTILE_FILES[name]
    resp = post(client, lobby, hidden, description="Broken light", photos=[
        (io.BytesIO(jpeg_bytes((40, 30), color=(0, 120, 0))), "good.jpg"), (io.BytesIO(data), "photo.jpg")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and expected in html and "Broken light" in html
    assert "choose the photos again" in html
    assert reports() == orders() == 0 and db.session.scalar(select(func.count(Photo.id))) == 0
    assert uploaded_files(app) == 0


def test_hostile_file_in_chinese_by_default(client, app, demo, lobby):
    _html, hidden = form_of(client, lobby)
    resp = post(client, lobby, hidden, photos=[(io.BytesIO(HOSTILE_FILES["svg"][0]), "x.jpg")])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "照片" in html and "not a photo" not in html and reports() == 0


@pytest.mark.parametrize("n", [4, 30])
def test_more_than_three_photos_are_refused_before_any_is_read(client, app, demo, lobby, n, monkeypatch):
    from app.services import photos as photo_svc

    monkeypatch.setattr(photo_svc, "_shrink_upright", lambda *a: (_ for _ in ()).throw(AssertionError("decoded")))
    _html, hidden = form_of(client, lobby)
    resp = post(client, lobby, hidden, description="四张照片",
                photos=[(io.BytesIO(jpeg_bytes((40, 30), color=(i, 0, 0))), f"p{i}.jpg") for i in range(n)])
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "最多" in html and "3" in html and "四张照片" in html
    assert reports() == 0 and uploaded_files(app) == 0


# ---- the private link ----------------------------------------------------------------------------

@pytest.fixture
def sent(client, demo, lobby):
    """A report with one photo, its order closed: the link, its token, the report."""
    _html, hidden = form_of(client, lobby)
    link = post(client, lobby, hidden, photos=[(io.BytesIO(jpeg_bytes()), "a.jpg")]).headers["Location"]
    report = db.session.scalar(select(ResidentReport))
    return link, link.rsplit("/", 1)[1], report


def close(demo, report):
    order = report.order
    svc.confirm(db.session, order, demo.users["supervisor"])
    after = Photo(site_id=demo.site.id, sha256="a" * 64, thumb_sha256="b" * 64, width=1, height=1, size_bytes=1)
    db.session.add(after)
    db.session.flush()
    wo.act(db.session, order, demo.users["crew.cleaning"], "resolve", note="已拖干", photos=[after])
    wo.act(db.session, order, demo.users["supervisor"], "verify")
    db.session.commit()


def state(report):
    db.session.expire_all()
    r = db.session.get(ResidentReport, report.id)
    return (r.answer, r.order.status, db.session.scalar(select(func.count(WorkOrderEvent.id))))


def _spoil(kind, link, report):
    if kind == "altered":
        return link[:-2] + ("AA" if not link.endswith("AA") else "BB")
    if kind == "expired":
        report.expires_at = report.created_at - timedelta(seconds=1)
    elif kind == "revoked":
        svc.revoke_link(db.session, report)
    db.session.commit()
    return link


@pytest.mark.parametrize("kind", ["altered", "expired", "revoked", "hostile"])
def test_a_dead_link_answers_the_invalid_page_everywhere_and_changes_nothing(client, demo, sent, kind):
    link, token, report = sent
    close(demo, report)
    csrf = csrf_from(client.get(link).get_data(as_text=True))
    photo_id = report.photos[0].id
    before = state(report)
    dead = "/r/f/%00%0d%0a" + "A" * 40 if kind == "hostile" else _spoil(kind, link, report)
    page = no_server_error(client.get(dead))
    assert page.status_code == 404 and "链接" in page.get_data(as_text=True)
    tap = no_server_error(client.post(f"{dead}/satisfied", data={"csrf_token": csrf}))
    assert tap.status_code == 404 and "链接" in tap.get_data(as_text=True)
    photo = no_server_error(client.get(f"{dead}/photos/{photo_id}/thumb.jpg"))
    assert photo.status_code == 404 and photo.mimetype == "text/html"
    assert state(report) == before


def test_an_answer_with_forged_or_missing_csrf_changes_nothing(client, demo, sent):
    link, _token, report = sent
    close(demo, report)
    before = state(report)
    for data in ({"csrf_token": "forged"}, {}):
        resp = client.post(f"{link}/unsatisfied", data=data)
        assert resp.status_code == 400 and "页面已过期" in resp.get_data(as_text=True)
    assert state(report) == before


def test_an_answer_before_the_work_is_done_says_so(client, demo, sent):
    """A stale or forged tap while the order is open: not recorded, and not 'already recorded'."""
    link, _token, report = sent
    csrf = csrf_from(client.get(link).get_data(as_text=True))
    before = state(report)
    resp = client.post(f"{link}/unsatisfied", data={"csrf_token": csrf})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "已记录" not in html and "完成" in html
    assert state(report) == before


def test_a_double_tap_on_the_answer_records_it_once(client, demo, sent):
    link, _token, report = sent
    close(demo, report)
    csrf = csrf_from(client.get(link).get_data(as_text=True))
    assert client.post(f"{link}/unsatisfied", data={"csrf_token": csrf}).status_code == 303
    after = state(report)
    again = client.post(f"{link}/unsatisfied", data={"csrf_token": csrf})
    assert again.status_code == 409 and "已记录" in again.get_data(as_text=True)
    assert state(report) == after and after[1] == "open"


@pytest.mark.parametrize("outcome", ["maybe", "satisfied%0d%0a", "SATISFIED"])
def test_an_unknown_answer_is_not_found(client, demo, sent, outcome):
    link, _token, report = sent
    close(demo, report)
    before = state(report)
    assert no_server_error(client.post(f"{link}/{outcome}", data={})).status_code == 404
    assert state(report) == before


def test_a_resident_cannot_open_another_residents_or_a_staff_photo(app, client, demo, lobby, sent):
    link, _token, mine = sent
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.1.2"
    _html, hidden = form_of(other, lobby)
    theirs = post(other, lobby, hidden, photos=[(io.BytesIO(jpeg_bytes(color=(1, 2, 250))), "b.jpg")])
    assert theirs.status_code == 303
    their_photo = db.session.scalar(select(ResidentReport).where(ResidentReport.id != mine.id)).photos[0]
    staff = Photo(site_id=demo.site.id, sha256="e" * 64, thumb_sha256="f" * 64, width=1, height=1, size_bytes=1)
    db.session.add(staff)
    db.session.commit()
    for photo_id in (their_photo.id, staff.id, 0, 99999999, 2**63 + 5):
        for size in ("thumb", "full"):
            resp = no_server_error(client.get(f"{link}/photos/{photo_id}/{size}.jpg"))
            assert resp.status_code == 404 and not resp.mimetype.startswith("image/")
    assert client.get(f"{link}/photos/{mine.photos[0].id}/full.jpg").mimetype == "image/jpeg"


# ---- redirect targets ----------------------------------------------------------------------------

def test_redirects_from_the_residents_pages_carry_no_cr_lf(client, demo, sent):
    link, _token, report = sent
    close(demo, report)
    csrf = csrf_from(client.get(link).get_data(as_text=True))
    tap = client.post(f"{link}/satisfied", data={"csrf_token": csrf})
    assert tap.status_code == 303 and tap.headers["Location"] == link
    for target in HOSTILE_NEXT + [link + "\r\nSet-Cookie: x=1", link + "%0d%0aX"]:
        resp = no_server_error(client.post("/language", data={"csrf_token": csrf, "lang": "en", "next": target}))
        location = resp.headers.get("Location", "")
        assert resp.status_code in (302, 303) and not re.search(r"[\r\n\x00]|%0[dDaA]", location), (target, location)
        assert location.startswith("/") and not location.startswith("//")
        assert "Set-Cookie: x" not in str(resp.headers)
    switched = client.post("/language", data={"csrf_token": csrf, "lang": "en", "next": link})
    assert switched.headers["Location"] == link
