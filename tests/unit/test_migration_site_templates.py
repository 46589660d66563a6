"""Migration 0011: existing templates become the shared library; codes are unique per site and in the library;
downgrading keeps each site's copy under a code of its own."""
import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.config import TestConfig


@pytest.fixture
def fresh_url(request, tmp_path):
    """An empty database of the run's backend (its own PostgreSQL cluster with --db=postgresql)."""
    if request.config.getoption("--db") == "postgresql":
        from tests.pg import Cluster

        cluster = Cluster().start()
        request.addfinalizer(cluster.stop)
        return cluster.create_db("migrate_0011")
    return f"sqlite:///{tmp_path / 'old.db'}"


def test_templates_become_the_library_and_copies_survive_a_downgrade(tmp_path, fresh_url):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = fresh_url
        PHOTO_DIR = str(tmp_path / "photos")

    app = create_app(Config)
    with app.app_context():
        upgrade(revision="0010")
        engine = sa.create_engine(Config.SQLALCHEMY_DATABASE_URI)
        with engine.begin() as c:
            c.execute(sa.text("INSERT INTO site (id, code, name_zh, name_en, timezone) "
                              "VALUES (1, 's', '测试', 'Test', 'Asia/Shanghai')"))
            c.execute(sa.text("INSERT INTO checklist_template (id, code, kind, name_zh, name_en, on_fail) "
                              "VALUES (1, 'patrol_greenery', 'patrol', '绿化', 'Greenery', 'work_order')"))
        upgrade(revision="0011")
        with engine.begin() as c:
            assert c.execute(sa.text("SELECT site_id FROM checklist_template")).all() == [(None,)]
            c.execute(sa.text("INSERT INTO checklist_template (id, site_id, code, kind, name_zh, name_en, on_fail) "
                              "VALUES (2, 1, 'patrol_greenery', 'patrol', '绿化', 'Greenery', 'work_order')"))
        for site in ("NULL", "1"):  # a second library template, or a second copy, with one code
            with pytest.raises(sa.exc.IntegrityError), engine.begin() as c:
                c.execute(sa.text(f"INSERT INTO checklist_template (id, site_id, code, kind, name_zh, name_en, "
                                  f"on_fail) VALUES (3, {site}, 'patrol_greenery', 'patrol', 'x', 'x', 'record')"))
        with engine.begin() as c:  # another code is fine
            c.execute(sa.text("INSERT INTO checklist_template (id, site_id, code, kind, name_zh, name_en, on_fail) "
                              "VALUES (3, NULL, 'patrol_parking', 'patrol', 'x', 'x', 'record')"))
        downgrade(revision="0010")
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT id, code FROM checklist_template ORDER BY id")).all() == [
                (1, "patrol_greenery"), (2, "patrol_greenery@1"), (3, "patrol_parking")]
        upgrade()
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT id, site_id FROM checklist_template ORDER BY id")).all() == [
                (1, None), (2, None), (3, None)]
        engine.dispose()
        from app.extensions import db

        db.engine.dispose()
