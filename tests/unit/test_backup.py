"""`flask backup DIR` and `flask restore DIR`: a demo with history and photos round-trips into an
empty deployment with the same rows and the same photo bytes; a non-empty target is refused."""
import hashlib

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Photo, Site
from app.services.seed import seed_history


def signatures(session) -> int:
    return len({k for row in session.execute(text(
        "SELECT engineer_signature, owner_signature FROM inspection")) for k in row if k})


def plans(session) -> set[str]:
    """The floor plans' store keys (the demo seeds two)."""
    return {k for (k,) in session.execute(text("SELECT plan_key FROM layout")) if k}


def table_counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar()
                for t in db.metadata.sorted_tables}


@pytest.fixture
def empty_deployment(app, tmp_path):
    """A second deployment of the same backend: an empty database and an empty photo store."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        name = f"restore_{tmp_path.name[-20:].lower().replace('-', '_')}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        new_url = url.set(database=name)
    else:
        new_url = make_url(f"sqlite:///{tmp_path / 'restored.db'}")

    class Restored(TestConfig):
        SQLALCHEMY_DATABASE_URI = new_url.render_as_string(hide_password=False)
        PHOTO_DIR = str(tmp_path / "restored-photos")

    other = create_app(Restored)
    yield other
    with other.app_context():
        db.engine.dispose()


def test_a_demo_with_history_and_photos_round_trips(app, demo, session, tmp_path, empty_deployment):
    seed_history(session, demo.site, days=3)
    session.commit()
    before = table_counts(db.engine)
    assert before["photo"] > 0 and before["answer"] > 0 and before["work_order_event"] > 0
    photos = {p.sha256: p.thumb_sha256 for p in session.scalars(select(Photo))}

    made = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")])
    assert made.exit_code == 0, made.output
    plan_keys = plans(session)
    assert len(plan_keys) == 2
    assert f"and {2 * len(photos) + signatures(session) + len(plan_keys)} photos" in made.output

    with empty_deployment.app_context():  # (the CLI uses the app context it finds)
        restored = empty_deployment.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup")])
        assert restored.exit_code == 0, restored.output
        assert table_counts(db.engine) == before
        store = empty_deployment.extensions["photo_store"]
        for full, thumb in photos.items():
            assert hashlib.sha256(store.get(full)).hexdigest() == full
            assert hashlib.sha256(store.get(thumb)).hexdigest() == thumb
        for key in plan_keys:  # the layouts' floor plans come back too
            assert hashlib.sha256(store.get(key)).hexdigest() == key
        assert db.session.scalar(select(Site.name_en).where(Site.code == "demo")) == demo.site.name_en
        db.session.remove()


def test_restore_refuses_a_deployment_that_has_data_and_changes_nothing(app, demo, session, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(tmp_path / "backup")]).exit_code == 0
    before = table_counts(db.engine)
    refused = runner.invoke(args=["restore", str(tmp_path / "backup")])
    assert refused.exit_code != 0 and "not empty" in refused.output
    assert table_counts(db.engine) == before
    again = runner.invoke(args=["backup", str(tmp_path / "backup")])  # the same directory again
    assert again.exit_code != 0 and "not empty" in again.output


def test_restore_refuses_what_is_not_a_backup(app, tmp_path):
    (tmp_path / "junk").mkdir()
    refused = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "junk")])
    assert refused.exit_code != 0 and "not a Rounds backup" in refused.output
