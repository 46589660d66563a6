"""The demo's places with QR codes for residents (flask seed-demo): made once, with a few reports to triage,
and again only for a place that is missing."""
from sqlalchemy import func, select

from app.models import ReportPlace, ResidentReport, WorkOrder
from app.services import residents as svc
from app.services.seed import DEMO_REPORT_PLACES, seed_report_places


def count(session, model) -> int:
    return session.scalar(select(func.count(model.id)))


def test_places_and_reports_are_seeded_once(session, demo):
    assert seed_report_places(session, demo.site) == 3
    session.commit()
    places = {p.name_en: p for p in svc.places(session, demo.site)}
    assert set(places) == {en for _k, _zh, en, _a in DEMO_REPORT_PLACES}
    assert places["Underground garage entrance"].area.code == "underground_garage"
    assert all(p.live and len(p.code) >= 12 for p in places.values())
    reports = session.scalars(select(ResidentReport)).all()
    assert len(reports) == 3 and all(r.order.source == "resident" and r.order.triaged_at is None for r in reports)
    lobby_orders = [o for o in session.scalars(select(WorkOrder)) if o.team.code == "cleaning"]
    assert len(lobby_orders) == 2 and svc.duplicates(session, lobby_orders[1], reports[1])  # offered to merge
    garage = next(r for r in reports if r.category == "parking")
    assert garage.order.team.code == "security"

    codes = {p.code for p in places.values()}
    assert seed_report_places(session, demo.site) == 0
    session.commit()
    assert (count(session, ReportPlace), count(session, ResidentReport)) == (3, 3)
    assert {p.code for p in svc.places(session, demo.site)} == codes  # printed codes stay valid


def test_a_missing_place_is_added_back_without_new_reports(session, demo):
    seed_report_places(session, demo.site)
    svc.revoke_place(session, svc.places(session, demo.site)[0])
    lift = next(p for p in svc.places(session, demo.site) if p.kind == "lift")
    session.delete(lift)
    session.commit()
    assert seed_report_places(session, demo.site) == 1
    session.commit()
    assert count(session, ReportPlace) == 3 and count(session, ResidentReport) == 3
    assert sum(not p.live for p in svc.places(session, demo.site)) == 1  # a withdrawn code stays withdrawn


def test_flask_seed_demo_adds_the_places_and_is_idempotent(app, session, demo):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--history-days", "0"])
    assert first.exit_code == 0 and "3 places with QR codes for residents added." in first.output, first.output
    again = runner.invoke(args=["seed-demo", "--history-days", "0"])
    assert again.exit_code == 0 and "already present" in again.output
    session.expire_all()
    assert count(session, ReportPlace) == 3 and count(session, ResidentReport) == 3
