"""Team webhooks reach only public addresses: refused when saved (in the manager's language, the URL
kept), refused again when sent (DNS may have changed), never redirected; failures shown to the manager."""
import socket
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.models import Team, WebhookDelivery
from app.models.types import utcnow
from app.services import webhooks
from app.services import workorders as wo
from tests.unit.test_outbound import Receiver, fake_dns
from tests.web.test_manage import form_data

INTERNAL = ["http://127.0.0.1:8080/hook", "http://[::1]:22/", "http://localhost:5432/",
            "http://169.254.169.254/latest/meta-data/", "http://2130706433/", "http://0x7f.1/",
            "http://10.0.0.8/hook"]


def teams_url(demo):
    return f"/manage/sites/{demo.site.id}/teams"


@pytest.mark.parametrize("url", INTERNAL)
def test_saving_an_internal_address_is_refused_with_the_url_kept(client, auth, demo, session, url):
    """The manager reads why, beside the field, and finds what they typed still there."""
    auth.login("manager")
    sec = demo.teams["security"].id
    resp = client.post(teams_url(demo), data=form_data(demo, auth.token(teams_url(demo)),
                                                       **{f"t{sec}_webhook": url}))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "is an internal address" in html and "Webhooks go only to public addresses." in html
    assert f'value="{url}"' in html and f'aria-describedby="t{sec}_webhook-error"' in html
    session.expire_all()
    assert session.get(Team, sec).webhook_url is None


def test_the_refusal_reads_in_chinese(client, auth, demo, session):
    auth.login("manager")
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": auth.token()})
    sec = demo.teams["security"].id
    resp = client.post(teams_url(demo), data=form_data(demo, auth.token(teams_url(demo)), **{
        f"t{sec}_webhook": "http://169.254.169.254/latest/meta-data/"}))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "169.254.169.254 是内部地址" in html and "公网地址" in html
    assert "internal address" not in html


@pytest.mark.parametrize("url, message", [
    ("ftp://example.com/hook", "Enter an http(s) address."),
    ("http://user:secret@93.184.216.34/hook", "must not contain a user name or password"),
])
def test_other_unusable_addresses_are_refused(client, auth, demo, url, message):
    auth.login("manager")
    sec = demo.teams["security"].id
    resp = client.post(teams_url(demo), data=form_data(demo, auth.token(teams_url(demo)),
                                                       **{f"t{sec}_webhook": url}))
    assert resp.status_code == 422 and message in resp.get_data(as_text=True)


def test_a_public_address_is_saved(client, auth, demo, session, monkeypatch):
    fake_dns(monkeypatch, {"qyapi.weixin.qq.com": ["101.91.0.1"]})
    auth.login("manager")
    sec = demo.teams["security"].id
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"
    resp = client.post(teams_url(demo), data=form_data(demo, auth.token(teams_url(demo)),
                                                       **{f"t{sec}_webhook": url}))
    assert resp.status_code == 302
    session.expire_all()
    assert session.get(Team, sec).webhook_url == url


def raise_order(session, demo, team_code="security"):
    """An order raised by hand for the team (which queues its webhook), committed."""
    order = wo.new_order(session, site=demo.site, team=demo.teams[team_code], source="manual",
                         severity="minor", title_zh="车库入口道闸损坏", title_en="Car-park barrier broken",
                         actor=demo.users["manager"])
    session.commit()
    webhooks.queued(session)  # sent by deliver_due here, not by the next test request's background send
    return order


def test_dns_changed_after_saving_is_refused_when_sending(client, auth, demo, session, monkeypatch):
    """Saved while the name pointed at a public address; by the time an order is raised it points
    inside. The send is refused, recorded as failed with the reason, and not tried again."""
    answers = {"hooks.example.com": ["93.184.216.34"]}
    fake_dns(monkeypatch, answers)
    auth.login("manager")
    sec = demo.teams["security"].id
    resp = client.post(teams_url(demo), data=form_data(demo, auth.token(teams_url(demo)), **{
        f"t{sec}_webhook": "http://hooks.example.com/hook"}))
    assert resp.status_code == 302
    answers["hooks.example.com"] = ["127.0.0.1"]
    connects = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, addr: connects.append(addr))
    session.expire_all()
    raise_order(session, demo)
    assert webhooks.deliver_due(session, "http://rounds.example") == 1
    delivery = session.scalar(select(WebhookDelivery))
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 1, "internal:127.0.0.1")
    assert connects == []
    assert webhooks.deliver_due(session, "http://rounds.example", now=utcnow() + timedelta(days=1)) == 0


def test_an_internal_address_saved_before_is_refused_when_sending(demo, session):
    """Addresses saved before this check existed are checked at every send."""
    demo.teams["security"].webhook_url = "http://[::1]:22/"
    session.commit()
    raise_order(session, demo)
    webhooks.deliver_due(session, "http://rounds.example")
    delivery = session.scalar(select(WebhookDelivery))
    assert (delivery.status, delivery.last_error) == ("failed", "internal:::1")


def test_a_redirect_is_not_followed_when_sending(app, demo, session, monkeypatch):
    """A receiver (reached through the allow-list) answering 302 to another local port: a failed
    delivery, and the other port never hears a thing."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW", "127.0.0.1")
    elsewhere = Receiver()
    redirecting = Receiver(status=302, location=f"http://127.0.0.1:{elsewhere.port}/internal-admin")
    try:
        demo.teams["security"].webhook_url = f"http://127.0.0.1:{redirecting.port}/hook"
        session.commit()
        raise_order(session, demo)
        webhooks.deliver_due(session, "http://rounds.example")
    finally:
        elsewhere.close()
        redirecting.close()
    delivery = session.scalar(select(WebhookDelivery))
    assert (delivery.status, delivery.last_error) == ("failed", "redirect:302")
    assert len(redirecting.requests) == 1 and redirecting.requests[0][0] == "POST"
    assert elsewhere.requests == []


def test_the_manager_sees_a_teams_delivery_failures(client, auth, demo, session, local):
    """Failed and waiting deliveries: when (site time), the order, attempts, the reason in words."""
    team = demo.teams["security"]
    team.webhook_url = "http://hooks.example.com/hook"
    session.commit()
    failed_order, waiting_order, sent_order = (raise_order(session, demo) for _ in range(3))
    failed, waiting, sent = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
    failed.status, failed.attempts, failed.last_error = "failed", 1, "internal:10.0.0.5"
    failed.created_at = local(demo.site, 2030, 1, 2, 9, 5)
    waiting.attempts, waiting.last_error = 2, "status:503"
    waiting.created_at = local(demo.site, 2030, 1, 2, 10, 15)
    waiting.next_attempt_at = local(demo.site, 2030, 1, 2, 10, 30)
    sent.status, sent.attempts = "sent", 1
    session.commit()
    auth.login("manager")
    html = client.get(teams_url(demo)).get_data(as_text=True)
    section = html[html.index("Messages not delivered"):]
    assert f"#{failed_order.id} Car-park barrier broken" in section
    assert f"#{waiting_order.id} " in section and f"#{sent_order.id} " not in section
    assert "2030-01-02 09:05" in section and "2030-01-02 10:15" in section  # Asia/Shanghai, not UTC
    assert "Failed after 1 attempt" in section
    assert "Attempt 2 of 5 failed; next try at 10:30" in section
    assert "10.0.0.5 is an internal address" in section and "The receiver answered HTTP 503." in section
    assert "internal:" not in section and "status:" not in section
    client.post("/language", data={"lang": "zh_Hans", "csrf_token": auth.token()})
    html = client.get(teams_url(demo)).get_data(as_text=True)
    section = html[html.index("未送达的消息"):]
    assert f"#{failed_order.id} 车库入口道闸损坏" in section and "10.0.0.5 是内部地址" in section
    assert "接收方返回 HTTP 503" in section and "2030-01-02 09:05" in section


def test_no_failures_no_list(client, auth, demo):
    auth.login("manager")
    assert "Messages not delivered" not in client.get(teams_url(demo)).get_data(as_text=True)
