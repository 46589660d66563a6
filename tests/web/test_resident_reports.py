"""Residents' reports over HTTP: the manager's places and routing, the public form (no login, CSRF,
refusals in place, rate limits, withdrawn codes), the private link, triage and access."""
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import ReportPlace, ResidentReport, WorkOrder
from app.services import residents as svc
from app.services import workorders as wo
from tests.conftest import csrf_from
from tests.statements import count_statements
from tests.web.helpers import jpeg_bytes, other_site


@pytest.fixture
def lobby(demo):
    place = svc.new_place(db.session, demo.site, kind="lobby", name_zh="3号楼大堂", name_en="Building 3 lobby",
                          area=demo.site.areas[0])
    db.session.commit()
    return place


def report_form(client, place):
    page = client.get(f"/r/{place.code}")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def once_from(html: str) -> str:
    """The once-key of the report form on a page (sent twice, one report)."""
    return re.search(r'name="once" type="hidden" value="([^"]+)"', html).group(1)


def send(client, place, photos=(), **fields):
    html = report_form(client, place)
    data = {"csrf_token": csrf_from(html), "once": once_from(html), "category": "cleaning",
            "description": "大堂地面有积水", **fields}
    if photos:
        data["photos"] = [(io.BytesIO(b), f"p{i}.jpg") for i, b in enumerate(photos)]
    return client.post(f"/r/{place.code}", data=data, content_type="multipart/form-data")


def link_of(resp) -> str:
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return resp.headers["Location"]


def test_manager_adds_a_place_prints_codes_routes_and_withdraws(client, auth, demo):
    auth.login("manager")
    page = client.get("/manage/places")
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    bad = client.post("/manage/places", data={"csrf_token": token, "kind": "lift", "name_zh": "", "name_en": ""})
    assert bad.status_code == 422 and "Give the place a name." in bad.get_data(as_text=True)
    ok = client.post("/manage/places", data={"csrf_token": token, "kind": "lift", "name_zh": "2号电梯",
                                             "name_en": "Lift 2", "area": "0"})
    assert ok.status_code == 303
    place = db.session.scalar(select(ReportPlace))
    sheet = client.get(f"/manage/places/qr?site={demo.site.id}").get_data(as_text=True)
    assert "<svg" in sheet and "2号电梯" in sheet
    resp = client.post("/manage/places/routing", data={"csrf_token": token, "site": demo.site.id,
                                                       f"route-noise-{place.id}": demo.teams["engineering"].id})
    assert resp.status_code == 303
    assert svc.team_for(db.session, place, "noise").code == "engineering"
    client.post(f"/manage/places/{place.id}/revoke", data={"csrf_token": token})
    client.post("/logout", data={"csrf_token": token})
    assert client.get(f"/r/{place.code}").status_code == 410
    assert client.get("/r/not-a-code").status_code == 404


def test_staff_of_another_site_get_404(client, auth, demo, lobby):
    other = other_site()
    mine = svc.new_place(db.session, other, kind="lobby", name_zh="大堂", name_en="Lobby")
    _t, report = svc.submit(db.session, lobby, category="cleaning", description="积水")
    db.session.commit()
    auth.login("sup.other")
    assert client.get(f"/reports/{report.order_id}").status_code == 404
    assert "积水" not in client.get("/reports").get_data(as_text=True)
    token = auth.token("/orders")
    assert client.post(f"/reports/{report.order_id}/dismiss",
                       data={"csrf_token": token, "version": 1, "reason": "x"}).status_code == 404
    assert mine.site_id == other.id
    assert client.get("/manage/places").status_code == 404  # supervisors do not manage places


def test_public_form_in_chinese_by_default_and_says_where(client, demo, lobby):
    html = report_form(client, lobby)
    assert "3号楼大堂" in html and "报" in html and 'lang="zh-Hans"' in html
    assert "Building 3 lobby" not in html


def test_a_report_with_photos_lands_on_its_private_link(client, demo, lobby):
    resp = send(client, lobby, photos=[jpeg_bytes(), jpeg_bytes(color=(10, 200, 10))], unit="3-1-1201",
                phone="138 0000 0000")
    link = link_of(resp)
    assert re.fullmatch(r"/r/f/[A-Za-z0-9_-]{40,}", link)
    page = client.get(link)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert "大堂地面有积水" in html and "3-1-1201" in html
    report = db.session.scalar(select(ResidentReport))
    assert len(report.photos) == 2 and report.order.source == "resident" and report.order.team.code == "cleaning"
    assert len(report.order.before_photos) == 2
    photo = report.photos[0]
    assert client.get(f"{link}/photos/{photo.id}/thumb.jpg").status_code == 200


def test_refusals_keep_what_was_typed(client, demo, lobby):
    html = report_form(client, lobby)
    token, once = csrf_from(html), once_from(html)
    resp = client.post(f"/r/{lobby.code}", data={"csrf_token": token, "once": once, "category": "cleaning", "description": "",
                                                 "unit": "3-1-1201"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "3-1-1201" in html and "请" in html
    resp = client.post(f"/r/{lobby.code}", data={"csrf_token": token, "once": once, "category": "cleaning",
                                                 "description": "坏了", "phone": "call me"})
    assert resp.status_code == 422 and "坏了" in resp.get_data(as_text=True)
    resp = client.post(f"/r/{lobby.code}", data={"csrf_token": token, "once": once, "category": "spaceship", "description": "x"})
    assert resp.status_code == 422
    resp = client.post(f"/r/{lobby.code}", data={"csrf_token": "forged", "once": once, "category": "cleaning",
                                                 "description": "积水很深"})
    assert resp.status_code == 400 and "积水很深" in resp.get_data(as_text=True)
    resp = send(client, lobby, photos=[jpeg_bytes(color=(i * 50, 0, 0)) for i in range(4)], description="四张照片")
    assert resp.status_code == 422 and "四张照片" in resp.get_data(as_text=True)
    resp = send(client, lobby, photos=[b"not a photo"], description="坏照片")
    assert resp.status_code == 422 and "坏照片" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ResidentReport.id))) == 0
    assert db.session.scalar(select(func.count(WorkOrder.id))) == 0


def test_rate_limit_per_address_and_per_place(app, client, demo, lobby):
    app.config.update(RESIDENT_REPORTS_PER_ADDRESS_HOUR=2, RESIDENT_REPORTS_PER_PLACE_HOUR=3)
    try:
        for _ in range(2):
            link_of(send(client, lobby))
        refused = send(client, lobby, description="第三次")
        assert refused.status_code == 429 and "第三次" in refused.get_data(as_text=True)
        other = app.test_client()
        other.environ_base["REMOTE_ADDR"] = "10.9.9.9"
        link_of(send(other, lobby))
        third = app.test_client()
        third.environ_base["REMOTE_ADDR"] = "10.9.9.10"
        assert send(third, lobby).status_code == 429  # the place's code had its 3 this hour
    finally:
        app.config.update(RESIDENT_REPORTS_PER_ADDRESS_HOUR=5, RESIDENT_REPORTS_PER_PLACE_HOUR=30)
    assert db.session.scalar(select(func.count(ResidentReport.id))) == 3


def test_link_altered_revoked_expired_show_the_invalid_page(client, demo, lobby):
    link = link_of(send(client, lobby))
    token = link.rsplit("/", 1)[1]
    assert client.get(link).status_code == 200
    assert client.get(link[:-2] + ("AA" if not link.endswith("AA") else "BB")).status_code == 404
    report = db.session.scalar(select(ResidentReport))
    report.expires_at = report.created_at - timedelta(seconds=1)
    db.session.commit()
    assert client.get(link).status_code == 404
    report.expires_at = report.created_at + timedelta(days=90)
    svc.revoke_link(db.session, report)
    db.session.commit()
    assert client.get(link).status_code == 404 and svc.report_for_link(db.session, token) is None


def test_one_resident_never_sees_another_residents_report(client, app, demo, lobby):
    mine = link_of(send(client, lobby, photos=[jpeg_bytes()], description="我的描述", phone="13800000001"))
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.1.2"
    theirs = link_of(send(other, lobby, photos=[jpeg_bytes(color=(1, 2, 250))], description="别人的描述",
                          phone="13900000002"))
    reports = db.session.scalars(select(ResidentReport).order_by(ResidentReport.id)).all()
    sup = demo.users["supervisor"]
    svc.merge(db.session, reports[1].order, reports[0].order, sup)
    db.session.commit()
    html = client.get(mine).get_data(as_text=True)
    assert "我的描述" in html and "别人的描述" not in html and "13900000002" not in html
    assert client.get(f"{mine}/photos/{reports[1].photos[0].id}/thumb.jpg").status_code == 404
    assert other.get(f"{theirs}/photos/{reports[0].photos[0].id}/full.jpg").status_code == 404
    assert sup.display_name not in html


def test_follow_up_shows_fix_without_staff_names_and_unsatisfied_reopens(client, demo, lobby):
    link = link_of(send(client, lobby))
    report = db.session.scalar(select(ResidentReport))
    order, crew, sup = report.order, demo.users["crew.cleaning"], demo.users["supervisor"]
    svc.confirm(db.session, order, sup)
    from app.models import Photo

    after = Photo(site_id=demo.site.id, sha256="e" * 64, thumb_sha256="f" * 64, width=1, height=1, size_bytes=1)
    db.session.add(after)
    db.session.flush()
    wo.act(db.session, order, crew, "comment", note="内部备注：住户很难缠")
    wo.act(db.session, order, crew, "resolve", note="已拖干", photos=[after])
    wo.act(db.session, order, sup, "verify")
    db.session.commit()
    html = client.get(link).get_data(as_text=True)
    assert "已拖干" in html and f"/photos/{after.id}/thumb.jpg" in html
    assert "内部备注" not in html and crew.display_name not in html and sup.display_name not in html
    token = csrf_from(html)
    resp = client.post(f"{link}/unsatisfied", data={"csrf_token": token})
    assert resp.status_code == 303
    db.session.refresh(order)
    assert order.status == "open" and order.reopen_count == 1 and order.callback == "unsatisfied"
    again = client.post(f"{link}/satisfied", data={"csrf_token": token})
    assert again.status_code == 409
    assert client.post(f"{link}/satisfied", data={"csrf_token": "forged"}).status_code == 400


def test_supervisor_triages_confirm_merge_dismiss(client, auth, demo, lobby):
    for text in ("积水一", "积水二", "积水三"):
        svc.submit(db.session, lobby, category="cleaning", description=text)
    db.session.commit()
    orders = db.session.scalars(select(WorkOrder).order_by(WorkOrder.id)).all()
    auth.login("supervisor")
    queue = client.get("/orders").get_data(as_text=True)
    assert "/reports" in queue
    page = client.get(f"/reports/{orders[2].id}").get_data(as_text=True)
    assert f"Merge into #{orders[0].id}" in page
    token = csrf_from(page)
    resp = client.post(f"/reports/{orders[1].id}/merge", data={"csrf_token": token, "version": orders[1].version,
                                                               "into": orders[0].id})
    assert resp.status_code == 303
    page = client.get(f"/reports/{orders[2].id}").get_data(as_text=True)
    assert "2 residents reported this" in page
    client.post(f"/reports/{orders[2].id}/merge", data={"csrf_token": token, "version": orders[2].version,
                                                        "into": orders[0].id})
    stale = client.post(f"/reports/{orders[0].id}/confirm", data={"csrf_token": token, "version": 99,
                                                                  "team": demo.teams["cleaning"].id,
                                                                  "severity": "minor"})
    assert stale.status_code == 409
    db.session.expire_all()
    ok = client.post(f"/reports/{orders[0].id}/confirm", data={
        "csrf_token": token, "version": db.session.get(WorkOrder, orders[0].id).version,
        "team": demo.teams["greenery"].id, "severity": "minor"})
    assert ok.status_code == 303
    db.session.expire_all()
    first = db.session.get(WorkOrder, orders[0].id)
    assert first.team.code == "greenery" and first.severity == "minor"
    assert first.triaged_by_id == demo.users["supervisor"].id
    assert db.session.scalar(select(func.count(ResidentReport.id)).where(ResidentReport.order_id == first.id)) == 3
    _t, lone = svc.submit(db.session, lobby, category="noise", description="半夜装修")
    db.session.commit()
    empty = client.post(f"/reports/{lone.order_id}/dismiss", data={"csrf_token": token, "version": 1, "reason": ""})
    assert empty.status_code == 422
    done = client.post(f"/reports/{lone.order_id}/dismiss",
                       data={"csrf_token": token, "version": 1, "reason": "已核实，是白天正常施工"})
    assert done.status_code == 303
    assert client.get("/reports").get_data(as_text=True).count("order-row") == 0


@pytest.mark.parametrize("url", ["/reports", "/manage/places"])
def test_new_list_pages_cost_the_same_at_n_and_3n_rows(client, auth, demo, url):
    """The triage list and the places page: statements do not grow with their rows."""
    auth.login("manager")
    counts = []
    for n in (3, 9):
        while db.session.scalar(select(func.count(ReportPlace.id))) < n:
            place = svc.new_place(db.session, demo.site, kind="lift", name_zh="电梯", name_en="Lift")
            svc.submit(db.session, place, category="cleaning", description="脏")
            svc.set_route(db.session, demo.site, "noise", place, demo.teams["security"])
        db.session.commit()
        client.get(url)
        with count_statements(db.engine) as seen:
            assert client.get(url).status_code == 200
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


def test_duty_log_and_dashboard_count_reports_response_time_and_satisfaction(client, auth, demo, lobby):
    """Two reports today, one triaged and answered satisfied: counted in the day's log and the dashboard."""
    from app.models import Photo
    from app.services import schedule

    _t, a = svc.submit(db.session, lobby, category="cleaning", description="积水")
    svc.submit(db.session, lobby, category="noise", description="噪音")
    svc.confirm(db.session, a.order, demo.users["supervisor"])
    after = Photo(site_id=demo.site.id, sha256="c" * 64, thumb_sha256="d" * 64, width=1, height=1, size_bytes=1)
    db.session.add(after)
    db.session.flush()
    wo.act(db.session, a.order, demo.users["crew.cleaning"], "resolve", note="已处理", photos=[after])
    wo.act(db.session, a.order, demo.users["supervisor"], "verify")
    svc.answer(db.session, a, "satisfied")
    db.session.commit()
    auth.login("manager")
    day = schedule.site_today(demo.site).isoformat()
    log = client.get(f"/log/{demo.site.id}/{day}").get_data(as_text=True)
    assert "2 reports from residents" in log and "Satisfied: 100% of 1 answers" in log
    dash = client.get(f"/manage/dashboard?site={demo.site.id}").get_data(as_text=True)
    assert "2 reports from residents" in dash and "Time to triage: " in dash


def test_supervisor_stops_a_residents_link_from_the_report_page(app, client, auth, demo, lobby):
    """A button per report: the link then opens the 'no longer valid' page, the report and order stay;
    crew and another site's supervisor get 404; a forged token changes nothing."""
    other_site()
    db.session.commit()
    link = link_of(send(client, lobby))
    report = db.session.scalar(select(ResidentReport))
    resident = app.test_client()
    assert resident.get(link).status_code == 200

    auth.login("crew.cleaning")
    token = auth.token("/orders")
    assert client.post(f"/reports/links/{report.id}/revoke", data={"csrf_token": token}).status_code == 404
    client.post("/logout", data={"csrf_token": token})
    auth.login("sup.other")
    token = auth.token("/orders")
    assert client.post(f"/reports/links/{report.id}/revoke", data={"csrf_token": token}).status_code == 404
    client.post("/logout", data={"csrf_token": token})

    auth.login("supervisor")
    order_page = client.get(f"/orders/{report.order_id}").get_data(as_text=True)
    assert f'href="/reports/{report.order_id}"' in order_page
    page = client.get(f"/reports/{report.order_id}").get_data(as_text=True)
    assert f'action="/reports/links/{report.id}/revoke"' in page and "Stop this resident's link" in page
    forged = client.post(f"/reports/links/{report.id}/revoke", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    db.session.expire_all()
    assert db.session.get(ResidentReport, report.id).revoked_at is None
    done = client.post(f"/reports/links/{report.id}/revoke", data={"csrf_token": csrf_from(page)},
                       follow_redirects=True)
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "no longer opens" in html and "was stopped" in html
    assert resident.get(link).status_code == 404
    db.session.expire_all()
    kept = db.session.get(ResidentReport, report.id)
    assert kept.revoked_at is not None and kept.order.status == "open"
