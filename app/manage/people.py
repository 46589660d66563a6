"""People: the users of the manager's sites, their roles, sites, teams and passwords."""
from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from app.extensions import db
from app.forms import EmptyForm
from app.labels import ROLE_LABELS
from app.manage import bp
from app.manage.forms import UserForm
from app.models import Site, Team, User
from app.services import people as svc
from app.services.policy import grantable_roles
from app.web import refused, render, user_sites


ROLE_LABELS_KEYS = ("supervisor", "crew", "manager", "admin", "engineer")


def _people_form(user=None):
    """The user form with the roles this manager may grant and the sites and teams they see."""
    form = UserForm(obj=user) if user is not None else UserForm()
    roles = grantable_roles(current_user, ROLE_LABELS_KEYS)
    form.role.choices = [SelectChoice(r, ROLE_LABELS[r]) for r in roles]
    sites = user_sites()
    form.sites.choices = [SelectChoice(s.id, s.t()) for s in sites]
    form.teams.choices = [SelectChoice(t.id, f"{t.site.t()} · {t.t()}") for s in sites for t in s.teams]
    if user is not None and not form.is_submitted():
        form.sites.data = [s.id for s in user.sites]
        form.teams.data = [t.id for t in user.teams]
    return form


@bp.get("/people")
@login_required
def people():
    """Everyone on the manager's sites (admins: everyone), active first."""
    users = [u for u in db.session.scalars(db.select(User).order_by(User.active.desc(), User.role, User.username))
             if svc.manageable(current_user, u)]
    return render("manage/people.html", users=users)


@bp.route("/people/new", methods=["GET", "POST"])
@bp.route("/people/<int:user_id>", methods=["GET", "POST"])
@login_required
def person(user_id: int | None = None):
    """Create or edit a user: role, sites, teams, active."""
    user = db.session.get(User, user_id) if user_id else None
    if user_id and (user is None or not svc.manageable(current_user, user)):
        abort(404)
    form = _people_form(user)
    if form.validate_on_submit():
        try:
            sites = [db.session.get(Site, i) for i in form.sites.data]
            teams = [db.session.get(Team, i) for i in form.teams.data]
            saved = svc.save_user(db.session, current_user, user, username=form.username.data,
                                  display_name=form.display_name.data, role=form.role.data,
                                  sites=[s for s in sites if s], teams=[t for t in teams if t],
                                  active=form.active.data)
            if user is None:
                password = svc.reset_password(db.session, saved)
                return render("manage/password.html", person=saved, password=password)
            flash(_("Saved."), "info")
            return redirect(url_for("manage.people"))
        except svc.PeopleRefused as e:
            form.role.errors = [refused(e)]
    return render("manage/person.html", form=form, person=user, reset_form=EmptyForm(),
                  status_code=422 if form.errors else 200)


@bp.post("/people/<int:user_id>/password")
@login_required
def reset_password(user_id: int):
    """A new temporary password, shown once."""
    user = db.session.get(User, user_id)
    if user is None or not svc.manageable(current_user, user) or not EmptyForm().validate_on_submit():
        abort(404)
    return render("manage/password.html", person=user, password=svc.reset_password(db.session, user))
