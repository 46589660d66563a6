"""Checklists: a site's own copies and the shared library, item by item, and as YAML out and in."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.extensions import db
from app.forms import EmptyForm
from app.manage import bp
from app.models import ChecklistTemplate, Site
from app.services import checklists as svc
from app.services.policy import can, manages_library
from app.web import download, load, refused, render, user_sites


def _template_scope(value: str | None):
    """The site whose checklists a page shows (`?site=<id>`), or None for the shared library (admins).

    Default: the library for admins, else the user's first site.
    """
    if value == "library" or (not value and manages_library(current_user)):
        if not manages_library(current_user):
            abort(404)
        return None
    sites = user_sites()
    site = next((s for s in sites if str(s.id) == value), None) if value else (sites[0] if sites else None)
    if site is None or not can(current_user, "manage", site):
        abort(404)
    return site


def _template_or_404(template_id: int, site_id: int | None):
    """The template to show or change and the site it is changed for (None: the library itself).

    Without a site: a site's copy (its site) or, for admins, a library template. With a site: that site's
    copy, or the library template the site uses (its copy if it has one); a change then makes the copy.
    """
    tpl = db.session.get(ChecklistTemplate, template_id)
    if tpl is None:
        abort(404)
    if site_id is None:
        if not can(current_user, "edit", tpl):
            abort(404)
        return tpl, tpl.site
    site = load(Site, site_id, "manage")
    if tpl.site_id is not None and tpl.site_id != site.id:
        abort(404)
    return svc.for_site(db.session, tpl.code, site.id) if tpl.site_id is None else tpl, site


def _template_context(tpl, site) -> dict:
    """What every checklist page needs to say where a change applies and to build its links."""
    sites = [site] if site is not None else user_sites()
    return {"tpl": tpl, "site": site, "scope_site_id": site.id if site is not None and tpl.site_id is None else None,
            "teams": svc.item_teams(db.session, [s.id for s in sites]), "form": EmptyForm()}


@bp.get("/templates")
@login_required
def templates():
    """The checklists one site uses (its copies and the library's), or the shared library; YAML export, import."""
    site = _template_scope(request.args.get("site"))
    rows = svc.library(db.session) if site is None else svc.site_templates(db.session, site)
    scopes = [s for s in user_sites() if can(current_user, "manage", s)]
    return render("manage/templates.html", rows=rows, site=site, scopes=scopes,
                  library=manages_library(current_user), form=EmptyForm())


@bp.get("/templates/<int:template_id>")
@bp.get("/sites/<int:site_id>/templates/<int:template_id>")
@login_required
def template(template_id: int, site_id: int | None = None):
    """A template's current items, each editable; versions already walked stay as they were."""
    tpl, site = _template_or_404(template_id, site_id)
    return render("manage/template.html", used=svc.is_used(db.session, tpl.current_version),
                  **_template_context(tpl, site))


def _saved_template(target, site):
    """Back to the template just changed (a site's copy has its own address)."""
    return redirect(url_for("manage.template", template_id=target.id,
                            site_id=site.id if site is not None and target.site_id is None else None))


@bp.route("/templates/<int:template_id>/items/new", methods=["GET", "POST"])
@bp.route("/templates/<int:template_id>/items/<code>", methods=["GET", "POST"])
@bp.route("/sites/<int:site_id>/templates/<int:template_id>/items/new", methods=["GET", "POST"])
@bp.route("/sites/<int:site_id>/templates/<int:template_id>/items/<code>", methods=["GET", "POST"])
@login_required
def template_item(template_id: int, code: str | None = None, site_id: int | None = None):
    """Edit one item (or add one): text in both languages, category, team, severity, photo rule, points."""
    tpl, site = _template_or_404(template_id, site_id)
    item = next((i for i in tpl.current_version.items if i.code == code), None) if code else None
    if code and item is None:
        abort(404)
    error = None
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        fields = {f: request.form.get(f, "") for f in ("text_zh", "text_en", "category", "team_code", "severity")}
        fields["photo_required_on_fail"] = request.form.get("photo_required_on_fail") == "y"
        try:
            fields["points"] = int(request.form.get("points") or 0)
            target = svc.site_copy(db.session, tpl, site) if site is not None else tpl
            svc.save_item(db.session, target, code, fields)
            if site is not None:
                flash(_("Saved for %(site)s. Rounds already walked keep the version they used.", site=site.t()),
                      "info")
            else:
                flash(_("Saved. Rounds already walked keep the version they used."), "info")
            return _saved_template(target, site)
        except ValueError:
            error = _("Points must be a whole number.")
        except svc.TemplateRefused as e:
            error = refused(e)
    ctx = _template_context(tpl, site)
    return render("manage/template_item.html", item=item, error=error, categories=svc.categories_for(tpl),
                  values=request.form if request.method == "POST" else None,
                  status_code=422 if error else 200, **ctx)


@bp.post("/templates/<int:template_id>/items/<code>/remove")
@bp.post("/sites/<int:site_id>/templates/<int:template_id>/items/<code>/remove")
@login_required
def template_item_remove(template_id: int, code: str, site_id: int | None = None):
    """Remove an item from the next version (for a site: from its copy)."""
    tpl, site = _template_or_404(template_id, site_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not any(i.code == code for i in tpl.current_version.items):
        abort(404)
    target = svc.site_copy(db.session, tpl, site) if site is not None else tpl
    svc.remove_item(db.session, target, code)
    flash(_("Removed from the next version."), "info")
    return _saved_template(target, site)


def _import_outcome(outcome: dict) -> str:
    """"patrol_greenery (version 2), …" in the reader's language."""
    words = {"created": _("created"), "copied": _("this estate's own copy"), "unchanged": _("unchanged")}
    return ", ".join(f"{code} ({words[v] if isinstance(v, str) else _('version %(n)d', n=v)})"
                     for code, v in outcome.items())


@bp.get("/templates.yaml")
@login_required
def templates_yaml():
    """The checklists of one site (or the library), as YAML in the shape of checklists.yaml."""
    site = _template_scope(request.args.get("site"))
    return download(svc.export_yaml(db.session, site), "application/yaml", "checklists.yaml")


@bp.post("/templates/import")
@login_required
def templates_import():
    """Import YAML into one site's checklists (its copies) or, for admins, the library."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    site = _template_scope(request.form.get("site"))
    upload = request.files.get("file")
    try:
        outcome = svc.import_yaml(db.session, upload.read(2 * 1024 * 1024).decode("utf-8") if upload else "", site)
        flash(_("Imported: %(summary)s.", summary=_import_outcome(outcome)), "info")
    except UnicodeDecodeError:
        flash(_("This is not a checklist YAML file like checklists.yaml."), "error")
    except svc.TemplateRefused as e:
        flash(refused(e), "error")
    return redirect(url_for("manage.templates", site=site.id if site is not None else "library"))
