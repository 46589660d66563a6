"""Background jobs: each attempt is a unit of work of its own (app/unit_of_work.py)."""
import threading

from app.services import webhooks
from app.unit_of_work import unit_of_work


def deliver_in_background(app, ids: list[int]) -> threading.Thread | None:
    """Send deliveries a request queued and committed, without holding up its response."""
    if not ids:
        return None

    def run():
        from app.extensions import db

        with app.app_context():
            try:
                webhooks.deliver_due(db.session, app.config["BASE_URL"], ids=ids,
                                     each=lambda: unit_of_work(db.session))
            finally:
                db.session.remove()

    thread = threading.Thread(target=run, name="webhooks", daemon=True)
    thread.start()
    return thread
