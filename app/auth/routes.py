"""Login, logout and password change."""
import math

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from app.auth.forms import LoginForm, PasswordForm
from app.extensions import db
from app.services import auth
from app.web import render, safe_next

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths (app.web.safe_next); anything else goes to Today."""
    return safe_next(target, url_for("main.home"))


def _refuse_throttled(outcome) -> tuple[int, dict]:
    """A pause that is still running: say so in the user's language; the 429 and its Retry-After."""
    flash(ngettext("Too many failed attempts. Try again in %(num)d minute.",
                   "Too many failed attempts. Try again in %(num)d minutes.", outcome.wait_minutes), "error")
    return 429, {"Retry-After": str(math.ceil(outcome.wait.total_seconds()))}


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Username and password; repeated failures from one address pause further tries (with backoff)."""
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        outcome = auth.authenticate(db.session, form.username.data, form.password.data, request.remote_addr,
                                    auth.Limits.from_config(current_app.config))
        if outcome.user is not None:
            lang = session.get("lang")
            session.clear()  # a fresh session on login
            if lang:
                session["lang"] = lang
            session.permanent = True  # lasts the working day (PERMANENT_SESSION_LIFETIME)
            login_user(outcome.user)
            return redirect(_safe_next(request.args.get("next")))
        if outcome.wait:
            status, headers = _refuse_throttled(outcome)
        else:
            flash(_("Wrong username or password."), "error")
            status = 401
    elif request.method == "POST":
        status = 422
    resp = render("auth/login.html", form=form, status_code=status)
    resp.headers.update(headers)
    return resp


@bp.post("/logout")
def logout():
    """Log out everywhere (POST with CSRF, so a link elsewhere cannot log a user out): every session
    of the user ends, so a copied cookie stops working too."""
    if current_user.is_authenticated:
        auth.end_sessions(db.session, current_user._get_current_object())
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change one's own password; every other session of the user ends, this one goes on."""
    form = PasswordForm()
    status, headers = 200, {}
    if form.validate_on_submit():
        outcome = auth.authenticate(db.session, current_user.username, form.current.data, request.remote_addr,
                                    auth.Limits.from_config(current_app.config))
        user = current_user._get_current_object()
        if outcome.user is not None and outcome.user.id == user.id:
            auth.change_password(db.session, user, form.new.data)
            login_user(user)  # this session carries the new epoch
            flash(_("Password changed. You are still logged in here; other devices must log in again."),
                  "info")
            return redirect(url_for("main.home"))
        if outcome.wait:
            status, headers = _refuse_throttled(outcome)
        else:
            form.current.errors = [_("This is not your current password.")]
            status = 422
    elif request.method == "POST":
        status = 422
    resp = render("auth/password.html", form=form, status_code=status)
    resp.headers.update(headers)
    return resp
