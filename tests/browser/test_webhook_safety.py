"""A manager types an internal webhook address on a phone: refused in place, in their language, with
what they typed kept; the team's undelivered messages are listed under its settings."""
import re

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import WebhookDelivery
from app.models.types import utcnow
from app.services import webhooks
from app.services import workorders as wo
from tests.browser.conftest import check_page, login

METADATA = "http://169.254.169.254/latest/meta-data/"


def undelivered(demo):
    """Two security orders whose messages did not get through: one refused, one waiting to retry."""
    team = demo.teams["security"]
    team.webhook_url = "http://hooks.example.com/rounds"
    for title_zh, title_en in (("车库入口道闸损坏", "Car-park barrier broken"),
                               ("岗亭对讲机无信号", "Gatehouse intercom dead")):
        wo.new_order(db.session, site=demo.site, team=team, source="manual", severity="major",
                     title_zh=title_zh, title_en=title_en, actor=demo.users["manager"])
    db.session.commit()
    webhooks.queued(db.session)  # nothing is sent from the test: the rows below say what happened
    refused, waiting = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    refused.status, refused.attempts, refused.last_error = "failed", 1, "internal:10.0.0.5"
    waiting.attempts, waiting.last_error = 2, "status:503"
    waiting.next_attempt_at = utcnow()
    db.session.commit()


def test_internal_address_refused_in_place_and_failures_listed(demo, phone_factory, shot):
    undelivered(demo)
    for locale, refusal, heading in (("en-US", "is an internal address", "Messages not delivered"),
                                     ("zh-CN", "是内部地址", "未送达的消息")):
        tag = locale[:2]
        phone = phone_factory(locale)
        login(phone, "manager")
        phone.goto(f"/manage/sites/{demo.site.id}/teams")
        sec = demo.teams["security"].id
        hook = phone.locator(f"#t{sec}_webhook")
        hook.fill(METADATA)
        phone.locator("main button.primary.wide").tap()
        phone.wait_for_load_state()
        error = phone.locator(f"#t{sec}_webhook-error")
        expect(error).to_contain_text(refusal)
        expect(error).to_contain_text("169.254.169.254")
        expect(hook).to_have_value(METADATA)
        expect(hook).to_have_attribute("aria-invalid", "true")
        check_page(phone)
        folder = shot(phone, f"refused-{tag}").parent  # the whole page; then what the manager sees
        hook.scroll_into_view_if_needed()
        phone.screenshot(path=str(folder / f"refused-{tag}-in-view.png"), caret="initial")
        card = phone.locator(f"fieldset:has(#t{sec}_webhook)")
        problems = card.locator(".hook-problems")
        expect(problems.get_by_role("heading", name=heading)).to_be_visible()
        expect(problems.locator("li")).to_have_count(2)
        expect(problems).to_contain_text("10.0.0.5")
        expect(problems).not_to_contain_text(re.compile(r"internal:|status:"))
        card.screenshot(path=str(folder / f"failures-{tag}-team-card.png"), caret="initial")
