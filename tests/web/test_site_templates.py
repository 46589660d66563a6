"""Checklists per site: a manager's change reaches only their own estate (through its copy of the shared
library), from the next round on; the library is the admins'; another estate's copy is not found."""
import io
import re

import yaml
from sqlalchemy import select

from app.extensions import db
from app.models import ChecklistTemplate, Site, User
from app.services import checklists as svc
from app.services import rounds, schedule
from tests.web.helpers import other_site


def library(code: str) -> ChecklistTemplate:
    return db.session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == code,
                                                             ChecklistTemplate.site_id.is_(None)))


def manager_of(site: Site, username: str = "manager.other") -> User:
    """A manager of `site` only."""
    user = User(username=username, display_name=username, role="manager")
    user.set_password("rounds-demo")
    user.sites.append(site)
    db.session.add(user)
    db.session.commit()
    return user


def start(site: Site, slot: str = "morning"):
    """Start the site's round in `slot` today; it freezes the versions its checkpoints use now."""
    supervisor = db.session.scalar(select(User).where(User.role == "supervisor", User.sites.contains(site)))
    rnd = next(r for r in schedule.rounds_for_day(db.session, site, schedule.site_today(site)) if r.slot == slot)
    return rounds.start_round(db.session, rnd, supervisor)


def texts(rnd, code: str) -> list[str]:
    """The English item texts a round walks for one checklist (its first stop with it)."""
    stop = next(s for s in rnd.stops if s.version.template.code == code)
    return [i.text_en for i in stop.version.items]


def item_form(item, token, **over):
    data = {"csrf_token": token, "text_zh": item.text_zh, "text_en": item.text_en, "category": item.category,
            "team_code": item.team_code, "severity": item.severity, "points": str(item.points)}
    data.update(over)
    return data


def test_a_managers_edits_add_remove_and_import_reach_only_their_estate(client, auth, demo, session):
    """Site B's manager edits, adds, removes and imports; A's next round walks the old texts, B's the new."""
    b = other_site()
    manager_of(b)
    greenery, parking = library("patrol_greenery"), library("patrol_parking")
    first, second = greenery.current_version.items[0], greenery.current_version.items[1]
    old_greenery, old_parking = [i.text_en for i in greenery.current_version.items], \
        [i.text_en for i in parking.current_version.items]
    auth.login("manager.other")
    base = f"/manage/sites/{b.id}/templates/{greenery.id}"
    page = client.get(base).get_data(as_text=True)
    assert "Changes apply to Second Estate from the next round." in page
    token = auth.token(base)

    resp = client.post(f"{base}/items/{first.code}", data=item_form(first, token, text_en="Lawns cut by B"))
    copy = svc.for_site(session, "patrol_greenery", b.id)
    assert resp.status_code == 302 and copy.site_id == b.id and copy.id != greenery.id
    assert resp.headers["Location"].endswith(f"/manage/templates/{copy.id}")
    # The library address now leads to B's copy: the next edits go there too.
    assert client.post(f"{base}/items/new", data=item_form(first, token, text_en="Fountain clean",
                                                           text_zh="喷泉清洁")).status_code == 302
    assert client.post(f"/manage/templates/{copy.id}/items/{second.code}/remove",
                       data={"csrf_token": token}).status_code == 302
    data = yaml.safe_load(client.get(f"/manage/templates.yaml?site={b.id}").get_data(as_text=True))
    spec = next(t for t in data["templates"] if t["id"] == "patrol_parking")
    spec["items"][0]["text_en"] = "Gate barrier works (B)"
    resp = client.post("/manage/templates/import", content_type="multipart/form-data", data={
        "csrf_token": token, "site": str(b.id),
        "file": (io.BytesIO(yaml.safe_dump(data, allow_unicode=True).encode()), "checklists.yaml")})
    assert resp.status_code == 302

    assert [i.text_en for i in greenery.current_version.items] == old_greenery  # the library is untouched
    assert [i.text_en for i in parking.current_version.items] == old_parking
    rnd_a, rnd_b = start(demo.site), start(b)
    assert texts(rnd_a, "patrol_greenery") == old_greenery and texts(rnd_a, "patrol_parking") == old_parking
    assert texts(rnd_b, "patrol_greenery") == ["Lawns cut by B"] + old_greenery[2:] + ["Fountain clean"]
    assert texts(rnd_b, "patrol_parking") == ["Gate barrier works (B)"] + old_parking[1:]
    # Reports group by code: B's copies keep the library's codes.
    assert {s.version.template.code for s in rnd_a.stops} == {s.version.template.code for s in rnd_b.stops}


def test_a_manager_cannot_see_or_change_another_estates_copy(client, auth, demo, session):
    """A's manager gets 404 for B's copy by every address, and for B's list, export and import."""
    b = other_site()
    copy = svc.site_copy(session, library("patrol_greenery"), b)
    session.commit()
    item = copy.current_version.items[0]
    auth.login("manager")
    token = auth.token("/manage/templates")
    for url in (f"/manage/templates/{copy.id}", f"/manage/templates/{copy.id}/items/{item.code}",
                f"/manage/sites/{demo.site.id}/templates/{copy.id}", f"/manage/sites/{b.id}/templates/{copy.id}",
                f"/manage/sites/{b.id}/templates/{library('patrol_greenery').id}",
                f"/manage/templates?site={b.id}", f"/manage/templates.yaml?site={b.id}"):
        assert client.get(url).status_code == 404, url
    for url in (f"/manage/templates/{copy.id}/items/{item.code}", f"/manage/templates/{copy.id}/items/new",
                f"/manage/templates/{copy.id}/items/{item.code}/remove",
                f"/manage/sites/{demo.site.id}/templates/{copy.id}/items/{item.code}"):
        assert client.post(url, data=item_form(item, token, text_en="Hijacked")).status_code == 404, url
    resp = client.post("/manage/templates/import", content_type="multipart/form-data", data={
        "csrf_token": token, "site": str(b.id),
        "file": (io.BytesIO(svc.export_yaml(session).replace("Lawn", "Hijacked").encode()), "c.yaml")})
    assert resp.status_code == 404
    session.expire_all()
    assert [i.text_en for i in copy.current_version.items] == [i.text_en for i in
                                                                library("patrol_greenery").current_version.items]
    listing = client.get("/manage/templates").get_data(as_text=True)
    assert f"/manage/templates/{copy.id}\"" not in listing and "Second Estate" not in listing


def test_a_manager_changes_the_library_only_through_their_estates_copy(client, auth, demo, session):
    """The library's own addresses are 404 to a manager; the site's address makes the site's copy."""
    tpl = library("patrol_greenery")
    item = tpl.current_version.items[0]
    auth.login("manager")
    token = auth.token("/manage/templates")
    assert client.get(f"/manage/templates/{tpl.id}").status_code == 404
    assert client.get("/manage/templates?site=library").status_code == 404
    assert client.get("/manage/templates.yaml?site=library").status_code == 404
    assert client.post(f"/manage/templates/{tpl.id}/items/{item.code}",
                       data=item_form(item, token, text_en="Library edited")).status_code == 404
    assert client.post(f"/manage/templates/{tpl.id}/items/{item.code}/remove",
                       data={"csrf_token": token}).status_code == 404
    text = svc.export_yaml(session).replace(item.text_en, "Library imported")
    resp = client.post("/manage/templates/import", content_type="multipart/form-data", data={
        "csrf_token": token, "site": "library", "file": (io.BytesIO(text.encode()), "c.yaml")})
    assert resp.status_code == 404
    session.expire_all()
    assert tpl.current_version.items[0].text_en == item.text_en and len(tpl.versions) == 1

    # The manager's list is their estate's; an import there makes the estate's copy, never a library version.
    listing = client.get("/manage/templates").get_data(as_text=True)
    assert f"/manage/sites/{demo.site.id}/templates/{tpl.id}" in listing
    resp = client.post("/manage/templates/import", content_type="multipart/form-data", data={
        "csrf_token": token, "site": str(demo.site.id), "file": (io.BytesIO(text.encode()), "c.yaml")})
    assert resp.status_code == 302
    assert "own copy" in client.get(resp.headers["Location"]).get_data(as_text=True)
    session.expire_all()
    assert len(tpl.versions) == 1 and tpl.current_version.items[0].text_en == item.text_en
    assert svc.for_site(session, "patrol_greenery", demo.site.id).current_version.items[0].text_en \
        == "Library imported"


def test_admin_edits_the_library_and_sites_without_a_copy_walk_it_next_round(client, auth, demo, session):
    """An admin's library edit reaches A (no copy) from its next round; B's own copy stays B's."""
    b = other_site()
    tpl = library("patrol_greenery")
    b_copy = svc.site_copy(session, tpl, b)
    session.commit()
    item = tpl.current_version.items[0]
    auth.login("admin")
    assert "Shared library" in client.get("/manage/templates").get_data(as_text=True)
    page = client.get(f"/manage/templates/{tpl.id}").get_data(as_text=True)
    assert "Estates without their own copy walk your changes from the next round." in page
    token = auth.token(f"/manage/templates/{tpl.id}")
    resp = client.post(f"/manage/templates/{tpl.id}/items/{item.code}",
                       data=item_form(item, token, text_en="Lawns cut (library)"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/manage/templates/{tpl.id}")
    assert start(demo.site).stops and texts(start(demo.site), "patrol_greenery")[0] == "Lawns cut (library)"
    assert texts(start(b), "patrol_greenery")[0] == b_copy.current_version.items[0].text_en != "Lawns cut (library)"
    # Admins may act on any estate's copy too.
    b_item = b_copy.current_version.items[0]
    assert client.post(f"/manage/templates/{b_copy.id}/items/{b_item.code}",
                       data=item_form(b_item, token, text_en="Fixed by admin")).status_code == 302


def test_the_round_in_progress_keeps_its_version(client, auth, demo, session):
    """A round started before the copy walks the frozen library version; the next round walks the copy."""
    morning = start(demo.site)
    tpl = library("patrol_greenery")
    old = [i.text_en for i in tpl.current_version.items]
    item = tpl.current_version.items[0]
    auth.login("manager")
    url = f"/manage/sites/{demo.site.id}/templates/{tpl.id}/items/{item.code}"
    assert client.post(url, data=item_form(item, auth.token(url), text_en="Lawns cut today")).status_code == 302
    session.expire_all()
    assert texts(morning, "patrol_greenery") == old
    assert texts(start(demo.site, "afternoon"), "patrol_greenery")[0] == "Lawns cut today"


def test_checkpoints_offer_the_estates_own_copies_only(client, auth, demo, session):
    """Route administration offers the estate's copy in place of the library's, never another estate's."""
    b = other_site()
    b_copy = svc.site_copy(session, library("patrol_parking"), b)
    a_copy = svc.site_copy(session, library("patrol_greenery"), demo.site)
    session.commit()
    route = demo.routes["morning"]
    cp = route.checkpoints[0]
    auth.login("manager")
    page = client.get(f"/manage/routes/{route.id}").get_data(as_text=True)
    offered = {int(v) for v in re.findall(r'name="template" value="(\d+)"', page)}
    assert a_copy.id in offered and library("patrol_parking").id in offered
    assert library("patrol_greenery").id not in offered and b_copy.id not in offered
    token = auth.token(f"/manage/routes/{route.id}")
    client.post(f"/manage/routes/{route.id}/checkpoints/{cp.id}/templates",
                data={"csrf_token": token, "template": [str(b_copy.id), str(a_copy.id)]})
    session.expire_all()
    assert [t.id for t in cp.templates] == [a_copy.id]
    assert all(library("patrol_greenery") not in c.templates for c in route.checkpoints)


def test_handover_and_appearance_checklists_are_read_per_estate(session, demo):
    """The unit checklist and the appearance check read the estate's own copy, else the library's."""
    from app.services import dutylog, handover

    b = other_site()
    for code in ("staff_appearance", "unit_pre_handover"):
        lib = library(code)
        rows = [{**r, "text_en": f"B: {r['text_en']}"} for r in svc._rows(lib.current_version)]
        svc.site_copy(session, lib, b, rows)
    session.commit()
    assert all(i.text_en.startswith("B: ") for i in dutylog.appearance_items(session, b.id))
    assert not any(i.text_en.startswith("B: ") for i in dutylog.appearance_items(session, demo.site.id))
    assert handover.template_version(session, b.id).template.site_id == b.id
    assert handover.template_version(session, demo.site.id).template.site_id is None
