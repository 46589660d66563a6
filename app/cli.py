"""flask commands: seed-demo, create-user."""
import click

from app.extensions import db


def register(app) -> None:
    @app.cli.command("seed-demo")
    def seed_demo_command():
        """Create the demo estate, its teams, users, routes and checklists (idempotent)."""
        from app.services.seed import DEMO_PASSWORD, seed_demo

        created = seed_demo(db.session)
        click.echo(f"Demo estate created; password for every demo user: {DEMO_PASSWORD}"
                   if created else "Demo estate already present; nothing changed.")

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option("--role", type=click.Choice(["supervisor", "crew", "manager", "admin"]), required=True)
    @click.option("--name", default=None)
    @click.option("--site", "site_codes", multiple=True, help="site code (repeatable)")
    @click.password_option()
    def create_user_command(username, role, name, site_codes, password):
        """Create a user with a hashed password."""
        from app.models import Site, User

        user = User(username=username, display_name=name or username, role=role)
        user.set_password(password)
        for code in site_codes:
            site = db.session.scalar(db.select(Site).where(Site.code == code))
            if site is None:
                raise click.BadParameter(f"no site {code!r}")
            user.sites.append(site)
        db.session.add(user)
        db.session.commit()
        click.echo(f"User {username} created.")

