"""Every template compiles (string extraction skips a broken one silently, so check here)."""
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize("name", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")))
def test_template_compiles(app, name):
    app.jinja_env.get_template(name)
