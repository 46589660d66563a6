"""The request is one unit of work: it commits once at its end (below 400) or rolls back; someone
else's change found at the end is a 409 with a plain message, never a 500, and nothing is kept."""
from sqlalchemy import func, insert, select, text

from app.models import Answer, Area, WorkOrder
from app.services import sites
from app.services import workorders as wo
from tests.web.helpers import item_url, started_morning

HX = {"HX-Request": "true", "Accept-Language": "en"}
SOMEONE_ELSE = "Someone changed this at the same moment, so nothing was saved."


def test_a_key_taken_at_commit_time_is_a_409_and_nothing_is_kept(client, auth, demo, session, monkeypatch):
    """Two managers add the same area at once: the second request's commit finds the code taken, so it
    answers 409 with the reason (not a 500, not "Saved."), and none of its work is kept."""
    auth.login("manager")
    url = f"/manage/sites/{demo.site.id}"
    token = auth.token(url)
    real = sites._names

    def names_while_someone_else_adds_it(zh, en):
        # After the request checked that the code is free, another request inserts it (no flush here:
        # the request's own insert comes at its commit).
        session.connection().execute(insert(Area).values(site_id=demo.site.id, code="sample_unit_b",
                                                         name_zh="样板房B", name_en="Sample unit B"))
        return real(zh, en)

    monkeypatch.setattr(sites, "_names", names_while_someone_else_adds_it)
    resp = client.post(f"{url}/areas/new", data={"csrf_token": token, "code": "sample_unit_b",
                                                 "name_zh": "样板房B", "name_en": "Sample unit B"})
    assert resp.status_code == 409
    assert SOMEONE_ELSE in resp.get_data(as_text=True)
    assert session.scalar(select(func.count(Area.id)).where(Area.code == "sample_unit_b")) == 0
    monkeypatch.setattr(sites, "_names", real)
    assert "Saved." not in client.get(url).get_data(as_text=True)  # the flash before the commit is gone


def test_an_order_changed_by_someone_else_meanwhile_is_a_409_and_the_answer_is_kept(client, auth, demo, session,
                                                                                    monkeypatch):
    """Turning a failed item back to pass cancels its order; if someone changed that order in the
    meantime (its version moved on), the request answers 409 with the reason and keeps nothing:
    the item stays failed and the order open."""
    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    url, stop, item = item_url(rnd, "patrol_parking", "car_gate_guard_conduct")
    assert client.post(url, headers=HX, data={"result": "fail", "csrf_token": token}).status_code == 200
    real = wo.record_event

    def after_someone_else_took_it(sess, order, *args, **kwargs):
        sess.connection().execute(text("UPDATE work_order SET version = version + 1 WHERE id = :id"),
                                  {"id": order.id})
        return real(sess, order, *args, **kwargs)

    monkeypatch.setattr(wo, "record_event", after_someone_else_took_it)
    for headers in (HX, {"Accept-Language": "en"}):  # the fragment, and the page without JavaScript
        resp = client.post(url, headers=headers, data={"result": "pass", "csrf_token": token})
        assert resp.status_code == 409
        assert SOMEONE_ELSE in resp.get_data(as_text=True)
        assert session.scalar(select(Answer.result).where(Answer.stop_id == stop.id, Answer.item_id == item.id)) \
            == "fail"
        assert session.scalar(select(WorkOrder.status)) == "open"


def test_a_refused_request_after_a_flash_and_redirect_commits_nothing(client, auth, demo, session):
    """A view that answers a refusal with a flash and a redirect (302) still keeps nothing of it."""
    auth.login("manager")
    url = f"/manage/sites/{demo.site.id}"
    token = auth.token(url)
    resp = client.post(f"{url}/details", data={"csrf_token": token, "name_zh": "翠湖花园", "name_en": "",
                                               "timezone": "Asia/Shanghai"})
    assert resp.status_code == 302
    assert "Give the name in Chinese and in English." in client.get(resp.headers["Location"]).get_data(as_text=True)
    session.refresh(demo.site)
    assert demo.site.name_en == "Jade Lake Gardens"
