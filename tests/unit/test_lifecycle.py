"""The lifecycle table is the one declaration: the README shows it, the routes and buttons use it."""
import re
from pathlib import Path

from app.services import lifecycle
from app.services.workorders import EFFECTS

ROOT = Path(__file__).resolve().parents[2]


def test_readme_shows_the_table_the_app_applies():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.search(r"<!-- lifecycle table -->\n(.*?)\n<!-- /lifecycle table -->", readme, re.S)
    assert shown, "README lost its lifecycle table markers"
    assert shown.group(1) == lifecycle.markdown_table(), "README's lifecycle table differs from the app's"


def test_every_step_has_a_url_and_only_known_effects():
    assert len(lifecycle.BY_SEGMENT) == len(lifecycle.LIFECYCLE)
    assert set(EFFECTS) <= set(lifecycle.STEPS)
    for step in lifecycle.LIFECYCLE:
        assert step.to_status is None or step.to_status in lifecycle.STATUSES, step
        assert set(step.from_statuses) <= set(lifecycle.STATUSES), step


def test_the_order_routes_are_the_tables(app):
    rules = {r.rule for r in app.url_map.iter_rules() if r.endpoint == "workorders.act"}
    assert len(rules) == 1
    adapter = app.url_map.bind("x")
    for step in lifecycle.LIFECYCLE:
        assert adapter.match(f"/orders/1/{step.segment}", method="POST")[1]["segment"] == step.segment
