"""flask commands: seed-demo, escalate, worker, create-user (each one unit of work, app/unit_of_work.py),
backup and restore."""
import subprocess
import sys
from pathlib import Path

import click

from app.extensions import db
from app.unit_of_work import unit_of_work


TRANSLATIONS = Path(__file__).resolve().parent / "translations"
ROOT = TRANSLATIONS.parent.parent


def register(app) -> None:
    app.cli.add_command(translate)
    @app.cli.command("seed-demo")
    @click.option("--history-days", default=30, show_default=True,
                  help="days of past rounds and work orders for the manager's screens")
    def seed_demo_command(history_days):
        """Create the demo estate, its teams, users, routes and checklists (idempotent)."""
        from app.models import Site
        from app.services.seed import DEMO_PASSWORD, seed_demo, seed_history, seed_report_places

        with unit_of_work(db.session):
            created = seed_demo(db.session)
        click.echo(f"Demo estate created; password for every demo user: {DEMO_PASSWORD}"
                   if created else "Demo estate already present.")
        with unit_of_work(db.session):
            site = db.session.scalar(db.select(Site).where(Site.code == "demo"))
            places = seed_report_places(db.session, site)
        click.echo(f"{places} places with QR codes for residents added." if places
                   else "Places with QR codes already present.")
        if history_days:
            with unit_of_work(db.session):
                site = db.session.scalar(db.select(Site).where(Site.code == "demo"))
                n = seed_history(db.session, site, days=history_days)
            click.echo(f"{n} past rounds added." if n else "History already present.")

    @app.cli.command("escalate")
    def escalate_command():
        """Escalate overdue and unverified orders and try the webhooks that are due, now."""
        from datetime import timedelta

        from app import tasks

        ids = tasks.run_sweep(app, timedelta(0))
        # Each attempt is its own unit: its outcome is saved before the next message goes out.
        for delivery_id in ids:
            tasks.run_delivery(app, delivery_id)
        click.echo(f"Escalations made; {len(ids)} webhook attempts.")

    @app.cli.command("worker")
    @click.option("--concurrency", default=4, show_default=True,
                  help="jobs run at once (webhooks wait on the network, not the CPU)")
    @click.option("--name", default=None, help="the worker's name in the logs")
    def worker_command(concurrency, name):
        """Run queued work (webhooks, the escalation sweep) with ROUNDS_TASKS=procrastinate; start one
        or more on any machine. SIGTERM lets the running jobs finish."""
        import logging

        from app import tasks

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        if app.config["TASKS"] != "procrastinate":
            raise click.ClickException("ROUNDS_TASKS is not 'procrastinate': the app runs its tasks "
                                       "itself and needs no worker.")
        tasks.run_worker(app, concurrency=concurrency, name=name)

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(["supervisor", "crew", "manager", "admin"]), required=True)
    @click.option("--name", default=None)
    @click.option("--site", "site_codes", multiple=True, help="site code (repeatable)")
    @click.password_option()
    def create_user_command(username, role, name, site_codes, password):
        """Create a user with a hashed password."""
        from app.models import Site, User

        with unit_of_work(db.session):
            user = User(username=username, display_name=name or username, role=role)
            user.set_password(password)
            for code in site_codes:
                site = db.session.scalar(db.select(Site).where(Site.code == code))
                if site is None:
                    raise click.BadParameter(f"no site {code!r}")
                user.sites.append(site)
            db.session.add(user)
        click.echo(f"User {username} created.")

    @app.cli.command("backup")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    def backup_command(directory):
        """Copy the database (one consistent snapshot) and every photo it refers to into DIRECTORY."""
        from app.services.backup import BackupError, backup

        try:
            made = backup(db.engine, app.extensions["photo_store"], directory)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Backed up the {made['backend']} database and {made['photos']} photos to {directory}.")
        if made["missing_photos"]:
            click.echo(f"{len(made['missing_photos'])} photos the database names were not in the store "
                       "(listed in backup.json).", err=True)

    @app.cli.command("restore")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
    def restore_command(directory):
        """Bring a backup made by `flask backup` into this (empty) deployment: database and photos."""
        from app.services.backup import BackupError, restore

        try:
            made = restore(db.engine, app.extensions["photo_store"], directory)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Restored the backup of {made['created_at']} ({made['photos']} photos). "
                   "Run `flask db upgrade` if this version of Rounds is newer than the backup.")



@click.group()
def translate():
    """Translation catalogs: extract, update, compile."""


@translate.command()
def update():
    """Extract strings, merge them into zh_Hans and en, and fill en with the English source."""
    pot = TRANSLATIONS / "messages.pot"
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    # pgettext is a default keyword; its lazy form (and our alias _lp) carry a context too.
    keywords = ["-k", "_l", "-k", "lazy_pgettext:1c,2", "-k", "_lp:1c,2"]
    subprocess.run(pybabel + ["extract", "-F", str(ROOT / "babel.cfg"), *keywords, "-o", str(pot),
                              str(ROOT / "app"), str(ROOT / "templates")], check=True)
    subprocess.run(pybabel + ["update", "-i", str(pot), "-d", str(TRANSLATIONS)], check=True)
    fill_english()
    click.echo("Now translate the empty entries in zh_Hans/LC_MESSAGES/messages.po.")


@translate.command()
def compile():  # noqa: A001 - the command's name
    """Compile the catalogs to .mo files."""
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "compile", "-d",
                    str(TRANSLATIONS)], check=True)


def fill_english() -> None:
    """The en catalog is the source text itself; keep it complete so nothing shows untranslated."""
    from babel.messages.pofile import read_po, write_po

    path = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale="en")
    for msg in catalog:
        if not msg.id:
            continue
        msg.flags.discard("fuzzy")
        msg.string = msg.id if isinstance(msg.id, str) else tuple(msg.id)
    with path.open("wb") as f:
        write_po(f, catalog, width=100)
