"""Error pages with plain messages in the user's language (fragments for htmx)."""
from flask import make_response, render_template, request
from flask_babel import force_locale, gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from sqlalchemy.exc import InterfaceError, OperationalError

from app.extensions import login
from app.i18n import locale_of_request

from app.services import plans
from app.services.errors import Conflict, Refused
from app.unit_of_work import CONFLICT_MESSAGE, CONFLICTS
from app.web import is_partial, refused, render


def register(app) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e):
        if not current_user.is_authenticated and request.endpoint != "auth.login":
            # An expired session is the usual cause: go to the login page, whole page, not a fragment.
            return login.unauthorized()
        return _error(400, _("This page has expired. Reload it and try again — nothing was changed."))

    @app.errorhandler(Refused)
    def refused_here(e):
        """A refusal no view answered itself: undone, and said on the error page or fragment."""
        return _error(e.status, refused(e))

    for conflict in CONFLICTS:  # someone else's change found by a flush before the request's commit
        @app.errorhandler(conflict)
        def conflict_here(e):
            """Another request changed the same thing first: nothing of this one is kept (409)."""
            return _error(409, refused(Conflict(CONFLICT_MESSAGE)))

    @app.errorhandler(404)
    def not_found(e):
        return _error(404, _("There is nothing here, or you do not have access to it."))

    @app.errorhandler(405)
    def not_allowed(e):
        return _error(405, _("That action is not available here."))

    @app.errorhandler(413)
    def too_large(e):
        if request.endpoint == "handover.upload_plan":  # a floor plan, not photos: its own cap
            return _error(413, refused(plans.too_large()))
        mb = app.config["MAX_PHOTO_BYTES"] // (1024 * 1024)
        return _error(413, _("The upload is too large. Each photo may be at most %(mb)d MB.", mb=mb))

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_away(e):
        """The database did not answer (a restart, a failover): 503 with "try again", told without
        asking the database anything, not even who is logged in (the request keeps nothing). A phone's
        queued change is sent again by itself."""
        app.logger.warning("database unavailable: %s", type(e.orig or e).__name__)
        with force_locale(locale_of_request()):
            body = render_template("errors/unavailable.html", partial=is_partial(), message=_(
                "Not saved: the server cannot reach its database for a moment. Try again in a few "
                "seconds."))
        resp = make_response(body, 503)
        resp.headers["Retry-After"] = "5"
        return resp

    @app.errorhandler(500)
    def server_error(e):
        return _error(500, _("Something went wrong on our side. Nothing was changed; try again."))


def _error(status: int, message: str):
    return render("errors/error.html", "errors/_error.html", status_code=status, message=message,
                  path=request.path)
