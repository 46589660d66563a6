"""Editing a used template makes a new version; rounds already walked keep theirs; YAML round trip."""
import pytest
import yaml
from sqlalchemy import select

from app.models import ChecklistTemplate
from app.services import rounds, schedule
from app.services import checklists as svc


def greenery(session):
    return session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "patrol_greenery"))


def fields(item, **over):
    base = {f: getattr(item, f) for f in svc.ITEM_FIELDS}
    base.update(over)
    return base


def test_unused_template_is_edited_in_place(session, demo):
    tpl = greenery(session)
    item = tpl.current_version.items[0]
    svc.save_item(session, tpl, item.code, fields(item, text_en="Lawns trimmed"))
    assert tpl.current_version.number == 1 and tpl.current_version.items[0].text_en == "Lawns trimmed"


def test_used_template_gets_a_new_version_and_old_rounds_keep_theirs(session, demo):
    tpl = greenery(session)
    rnd = next(r for r in schedule.rounds_for_day(session, demo.site, schedule.site_today(demo.site))
               if r.slot == "morning")
    rounds.start_round(session, rnd, demo.users["supervisor"])
    old_text = tpl.current_version.items[0].text_en
    item = tpl.current_version.items[0]
    svc.save_item(session, tpl, item.code, fields(item, text_en="Lawns trimmed, edges neat"))
    svc.save_item(session, tpl, None, fields(item, text_en="Irrigation heads working", text_zh="喷头正常"))
    assert tpl.current_version.number == 2
    assert [i.text_en for i in tpl.current_version.items][0] == "Lawns trimmed, edges neat"
    assert tpl.current_version.items[-1].code == "irrigation_heads_working"
    stop = next(s for s in rnd.stops if s.version.template.code == "patrol_greenery")
    assert stop.version.number == 1 and stop.version.items[0].text_en == old_text
    svc.remove_item(session, tpl, "irrigation_heads_working")
    assert tpl.current_version.number == 2 and len(tpl.current_version.items) == 10


def test_yaml_round_trip_and_changed_item_makes_a_version(session, demo):
    text = svc.export_yaml(session)
    data = yaml.safe_load(text)
    assert {t["id"] for t in data["templates"]} >= {"patrol_greenery", "unit_pre_handover"}
    assert set(svc.import_yaml(session, text).values()) == {"unchanged"}
    for t in data["templates"]:
        if t["id"] == "patrol_greenery":
            t["items"][0]["text_en"] = "Changed by import"
    outcome = svc.import_yaml(session, yaml.safe_dump(data, allow_unicode=True))
    assert outcome["patrol_greenery"] == 2 and outcome["patrol_parking"] == "unchanged"
    assert greenery(session).current_version.items[0].text_en == "Changed by import"


@pytest.mark.parametrize("text", ["not: [yaml", "templates: 5", "templates:\n  - id: x\n    items:\n      - id: a\n"])
def test_bad_yaml_changes_nothing(session, demo, text):
    with pytest.raises(svc.TemplateRefused):
        svc.import_yaml(session, text)
    session.rollback()
    assert greenery(session).current_version.number == 1
    assert session.scalar(select(ChecklistTemplate).where(ChecklistTemplate.code == "x")) is None
