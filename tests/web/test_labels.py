"""Labels a user reads: one English word with two meanings reads as two words in Chinese; checklist
administration shows team names, never codes, and the categories of the checklist's own kind."""
import re

import pytest
from sqlalchemy import select

from app.models import ChecklistTemplate
from app.services import schedule
from tests.conftest import csrf_from

ZH = {"Accept-Language": "zh-CN"}


def template_id(session, code: str) -> int:
    return session.scalar(select(ChecklistTemplate.id).where(ChecklistTemplate.code == code))


def options(html: str, select_id: str) -> list[tuple[str, str]]:
    """(value, text) of every option of one <select>."""
    block = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', block)


def test_zh_rounds_sections_are_not_headed_with_the_app_name(client, auth, demo):
    """The duty log's rounds and the compliance table say 巡查; only the brand says 巡查通."""
    auth.login("manager")
    day = schedule.site_today(demo.site).isoformat()
    log = client.get(f"/log/{demo.site.id}/{day}", headers=ZH).get_data(as_text=True)
    assert '<h2 id="lr-h">巡查</h2>' in log
    assert re.search(r'class="brand"[^>]*>巡查通<', log)
    report = client.get(f"/manage/compliance?site={demo.site.id}", headers=ZH).get_data(as_text=True)
    assert "<h2>巡查</h2>" in report and "<h2>巡查通</h2>" not in report
    en = client.get(f"/log/{demo.site.id}/{day}").get_data(as_text=True)
    assert '<h2 id="lr-h">Rounds</h2>' in en


def test_checklist_administration_shows_team_names_not_codes(client, auth, demo, session):
    """The item list and the item form's Team select name each team in the reader's language."""
    auth.login("manager")
    tid = template_id(session, "patrol_residential_common")
    page = client.get(f"/manage/sites/{demo.site.id}/templates/{tid}", headers=ZH).get_data(as_text=True)
    metas = re.findall(r'<p class="meta">(.*?)</p>', page, re.S)
    assert metas and not any(re.search(r"\b(cleaning|customer_service|engineering|security)\b", m) for m in metas)
    assert any("保洁" in m for m in metas) and any("客服" in m for m in metas)
    form = client.get(f"/manage/sites/{demo.site.id}/templates/{tid}/items/new").get_data(as_text=True)
    teams = options(form, "team_code")
    assert ("customer_service", "Customer service") in teams and ("cleaning", "Cleaning") in teams
    assert all(value != text for value, text in teams)
    assert "华建" not in form  # the contractor rectifies defects; no checklist item names it


def test_item_form_offers_the_categories_of_the_checklists_kind(client, auth, demo, session):
    """A patrol checklist offers no handover tests; the handover checklist offers no parking."""
    auth.login("manager")
    patrol = options(client.get(f"/manage/sites/{demo.site.id}/templates/{template_id(session, 'patrol_greenery')}/items/new")
                     .get_data(as_text=True), "category")
    assert ("greenery", "Greenery") in patrol and ("parking", "Parking") in patrol
    assert not {"tests", "electrical", "walls_ceilings", "plumbing"} & {v for v, _ in patrol}
    handover_id = template_id(session, "unit_pre_handover")
    handover = options(client.get(f"/manage/sites/{demo.site.id}/templates/{handover_id}/items/new").get_data(as_text=True), "category")
    assert ("tests", "Water and power tests") in handover
    assert not {"greenery", "parking", "staff_conduct"} & {v for v, _ in handover}


def test_a_category_of_another_kind_is_refused_in_place(client, auth, demo, session):
    """Posting a handover category to a patrol checklist re-renders the form with a message."""
    auth.login("manager")
    tid = template_id(session, "patrol_greenery")
    url = f"/manage/sites/{demo.site.id}/templates/{tid}/items/new"
    token = auth.token(url)
    resp = client.post(url, data={
        "csrf_token": token, "text_zh": "水电测试", "text_en": "Water and power test", "category": "tests",
        "team_code": "greenery", "severity": "minor", "points": "0"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "Choose a category of this kind of checklist." in html and "Water and power test" in html
    resp = client.post(url, data={
        "csrf_token": token, "text_zh": "草坪修剪", "text_en": "Lawn trimmed", "category": "greenery",
        "team_code": "no_such_team", "severity": "minor", "points": "0"})
    assert resp.status_code == 422 and "Choose a team." in resp.get_data(as_text=True)


def test_callback_due_is_not_the_orders_due_time():
    """"Due" on a callback (回访待办) and "Due" of an order (完成时限) are two messages."""
    from flask_babel import force_locale

    from app.labels import CALLBACK_LABELS

    with force_locale("zh_Hans"):
        assert str(CALLBACK_LABELS["due"]) == "待回访"


@pytest.mark.parametrize("language, message", [("zh-CN", "该字段是必填字段。"), ("en", "This field is required.")])
def test_form_checks_speak_the_users_language_on_every_request(client, demo, language, message):
    """WTForms' own messages follow the page's language, request after request (they are read once
    per process and language, not once per request), whichever language asked first."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    for _ in range(2):
        page = client.get("/login")
        token = csrf_from(page.get_data(as_text=True))
        refused = client.post("/login", data={"username": "", "password": "x", "csrf_token": token})
        assert message in refused.get_data(as_text=True)
