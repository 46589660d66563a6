"""Flask-Login wiring: loading the user and answering unauthenticated requests."""
from flask import flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from app.extensions import db


def configure(login) -> None:
    login.login_view = "auth.login"
    login.login_message = _l("Please log in.")
    login.login_message_category = "info"

    @login.user_loader
    def load_user(user_id: str):
        from app.models import User

        # The session holds "id.epoch" (User.get_id): a cookie issued before the user's last logout,
        # password change or reset, or deactivation carries an old epoch and loads nobody.
        ident, _, epoch = user_id.partition(".")
        if not (ident.isdigit() and epoch.isdigit()):
            return None
        # Every policy check needs the user's sites and teams: one statement loads all three.
        options = [joinedload(User.sites), joinedload(User.teams)]
        user = db.session.get(User, int(ident), options=options)
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        return user

    @login.unauthorized_handler
    def unauthorized():
        target = url_for("auth.login", next=_next_path())
        if request.headers.get("HX-Request") == "true":
            # A change sent from the phone's queue (X-Rounds-Queue) stays there and is sent after login.
            if request.method == "POST" and not request.headers.get("X-Rounds-Queue"):
                flash(_l("Your session has ended. Log in to continue; your last change was not saved."),
                      "error")
            # The whole page goes to the login screen, never a login form inside a fragment.
            resp = redirect(target)
            resp.status_code = 200
            resp.headers["HX-Redirect"] = target
            return resp
        return redirect(target)


def _next_path() -> str:
    """Where to go back to after login; for htmx the page the user was on, not the fragment URL."""
    current = request.headers.get("HX-Current-URL")
    if current:
        from urllib.parse import urlsplit

        parts = urlsplit(current)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.full_path.rstrip("?")
