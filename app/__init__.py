"""Rounds: estate patrols, work orders and handover inspections for property teams."""
from flask import Flask

from app.config import Config
from app.static_files import setup_static


def create_app(config: type[Config] | None = Config) -> Flask:
    """Build the app: a readable list of setup steps, no database work, no side effects."""
    app = Flask(__name__, instance_relative_config=False,
                template_folder="../templates", static_folder="../static")
    app.config.from_object(config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError("Set ROUNDS_SECRET_KEY (make run generates one into instance/secret_key).")
    setup_proxy(app)
    setup_static(app)
    setup_request_ids(app)
    setup_extensions(app)
    setup_i18n(app)
    setup_login(app)
    setup_blueprints(app)
    setup_errors(app)
    setup_templates(app)
    setup_security_headers(app)
    setup_background(app)
    setup_unit_of_work(app)
    setup_cli(app)
    return app


def setup_proxy(app: Flask) -> None:
    """Behind ROUNDS_TRUSTED_PROXIES reverse proxies, the client's address and scheme come from their
    X-Forwarded-For / -Proto (login throttling counts per client address); with none, from the peer."""
    hops = app.config.get("TRUSTED_PROXIES", 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def setup_request_ids(app: Flask) -> None:
    """X-Request-Id on every response and in every app log line (app/request_log.py)."""
    from app import request_log

    request_log.setup(app)


def setup_extensions(app: Flask) -> None:
    from app.extensions import csrf, db, htmx, migrate
    from app.services.storage import make_store

    db.init_app(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    app.extensions["photo_store"] = make_store(app.config)


def setup_i18n(app: Flask) -> None:
    from app import i18n
    from app.extensions import babel

    babel.init_app(app, locale_selector=i18n.select_locale)


def setup_login(app: Flask) -> None:
    from app.auth import session_user
    from app.extensions import login

    login.init_app(app)
    session_user.configure(login)


def setup_blueprints(app: Flask) -> None:
    from app.auth.routes import bp as auth_bp
    from app.dutylog.routes import bp as dutylog_bp
    from app.main.health import bp as health_bp
    from app.main.pwa import bp as pwa_bp
    from app.main.routes import bp as main_bp
    from app.handover.routes import bp as handover_bp
    from app.manage import bp as manage_bp
    from app.owner.routes import bp as owner_bp
    from app.reports.public import bp as resident_bp
    from app.reports.triage import bp as reports_bp
    from app.rounds.routes import bp as rounds_bp
    from app.workorders.routes import bp as workorders_bp

    for bp in (main_bp, pwa_bp, auth_bp, rounds_bp, dutylog_bp, workorders_bp, manage_bp, handover_bp,
               owner_bp, resident_bp, reports_bp, health_bp):
        app.register_blueprint(bp)


def setup_errors(app: Flask) -> None:
    from app.main import errors

    errors.register(app)


def setup_templates(app: Flask) -> None:
    from app import template_helpers
    from app.web import template_can

    template_helpers.register(app)
    app.jinja_env.globals["can"] = template_can  # templates ask the policy, never compare roles


# Scripts, styles and images only from this origin; no framing; forms post only here.
CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def setup_security_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(resp):
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        if app.config["SESSION_COOKIE_SECURE"]:  # ROUNDS_SECURE_COOKIES=1: served over TLS only
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp


def setup_background(app: Flask) -> None:
    """Webhooks and the escalation sweep run as tasks (app/tasks.py), never inside a user's request."""
    from app import tasks

    if app.config["TASKS"] not in ("inline", "procrastinate"):
        raise RuntimeError("ROUNDS_TASKS is 'inline' or 'procrastinate'.")
    if app.config["TASKS"] == "procrastinate" and not app.config["SQLALCHEMY_DATABASE_URI"].startswith(
            "postgresql"):
        raise RuntimeError("ROUNDS_TASKS=procrastinate keeps its jobs in PostgreSQL: set DATABASE_URL.")
    tasks.setup(app)


def setup_unit_of_work(app: Flask) -> None:
    """One transaction per request (app/web.py): commit below 400, else roll back; then webhooks.

    Registered after the security headers: after_request hooks run last-registered first, so the 409
    that replaces a conflicting commit still gets its headers."""
    from app.unit_of_work import keep_savepoints_inside_the_unit
    from app.web import discard_unit, end_unit

    keep_savepoints_inside_the_unit()
    app.after_request(end_unit)
    app.teardown_request(discard_unit)


def setup_cli(app: Flask) -> None:
    from app import cli

    cli.register(app)
