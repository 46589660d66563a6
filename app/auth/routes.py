"""Login and logout routes."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth.forms import LoginForm
from app.extensions import db
from app.services import auth
from app.web import render

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths; anything else goes to Today."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Username and password; repeated failures lock the account and the address for a while."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        cfg = current_app.config
        if auth.locked(db.session, form.username.data, request.remote_addr):
            flash(_("Too many failed attempts. Try again in %(min)d minutes.",
                    min=cfg["LOGIN_LOCK_MINUTES"]), "error")
            status = 429
        else:
            user = auth.authenticate(db.session, form.username.data, form.password.data,
                                     request.remote_addr, max_failures=cfg["LOGIN_MAX_FAILURES"],
                                     lock_minutes=cfg["LOGIN_LOCK_MINUTES"])
            if user is not None:
                lang = session.get("lang")
                session.clear()  # a fresh session on login
                if lang:
                    session["lang"] = lang
                session.permanent = True  # lasts the working day (PERMANENT_SESSION_LIFETIME)
                login_user(user)
                return redirect(_safe_next(request.args.get("next")))
            flash(_("Wrong username or password."), "error")
            status = 401
    elif request.method == "POST":
        status = 422
    return render("auth/login.html", form=form, status_code=status)


@bp.post("/logout")
def logout():
    """Log out (POST with CSRF, so a link elsewhere cannot log a user out)."""
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))
