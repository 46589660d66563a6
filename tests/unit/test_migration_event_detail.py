"""Migration 0010 turns the old English event details into data the history words per language."""
import json

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.config import TestConfig


def test_old_reassign_and_change_details_become_data_and_back(tmp_path):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'old.db'}"
        PHOTO_DIR = str(tmp_path / "photos")

    app = create_app(Config)
    with app.app_context():
        upgrade(revision="0009")
        engine = sa.create_engine(Config.SQLALCHEMY_DATABASE_URI)
        with engine.begin() as c:
            c.execute(sa.text("INSERT INTO site (id, code, name_zh, name_en, timezone) "
                              "VALUES (1, 's', '测试', 'Test', 'Asia/Shanghai')"))
            c.execute(sa.text("INSERT INTO team (id, site_id, code, name_zh, name_en) VALUES "
                              "(1, 1, 'cleaning', '保洁', 'Cleaning'), (2, 1, 'engineering', '工程', 'Engineering')"))
            c.execute(sa.text(
                "INSERT INTO work_order (id, site_id, team_id, source, title_zh, title_en, description, severity, "
                "status, due_at, created_at, reopen_count, version) VALUES (1, 1, 2, 'manual', 't', 't', '', "
                "'critical', 'open', '2026-12-03 05:35:00', '2026-12-02 00:00:00', 0, 1)"))
            c.execute(sa.text(
                "INSERT INTO work_order_event (id, order_id, kind, at, note, detail) VALUES "
                "(1, 1, 'reassigned', '2026-12-02 01:00:00', '', 'cleaning → engineering'), "
                "(2, 1, 'changed', '2026-12-02 02:00:00', '', 'severity major → critical; due "
                "2026-12-02T21:35:49.457736+00:00 → 2026-12-03T05:35:00+08:00'), "
                "(3, 1, 'escalated', '2026-12-02 03:00:00', '', 'overdue')"))
        upgrade(revision="0010")
        with engine.connect() as c:
            details = dict(c.execute(sa.text("SELECT id, detail FROM work_order_event ORDER BY id")).all())
        assert json.loads(details[1]) == {"team": [1, 2]}
        assert json.loads(details[2]) == {"severity": ["major", "critical"],
                                          "due": ["2026-12-02T21:35:49.457736+00:00", "2026-12-03T05:35:00+08:00"]}
        assert details[3] == "overdue"
        downgrade(revision="0009")
        with engine.connect() as c:
            details = dict(c.execute(sa.text("SELECT id, detail FROM work_order_event ORDER BY id")).all())
        assert details[1] == "cleaning → engineering" and details[2].startswith("severity major → critical; due ")
        engine.dispose()
