"""/healthz for the reverse proxy and the orchestrator: the database and the photo store answer.

No login, no session and no page: a JSON line that says which part is down (503), so nginx or a load
balancer stops sending users to an app server that could only fail them."""
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from app.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    checks = {"database": _database(), "photos": current_app.extensions["photo_store"].reachable()}
    body = {name: "ok" if up else "down" for name, up in checks.items()}
    resp = jsonify(body)
    resp.status_code = 200 if all(checks.values()) else 503
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _database() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure to answer is "down"; the reason goes to the log (the 503 rolls back)
        current_app.logger.warning("health: database does not answer", exc_info=True)
        return False
