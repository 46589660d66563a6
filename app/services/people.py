"""User administration: create, change roles, sites and teams, reset passwords, deactivate.
A deactivated user keeps their history; nobody is ever deleted."""
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.models import Site, Team, User
from app.services import policy
from app.services.errors import Refused


class PeopleRefused(Refused):
    """A change to a person the actor may not make, or a username taken."""


def manageable(actor: User, user: User) -> bool:
    """Admins manage everyone; managers manage non-admins who share one of their sites (the policy's rule)."""
    return policy.can(actor, "manage_person", user)


def save_user(session, actor: User, user: User | None, *, username: str, display_name: str, role: str,
              sites: list[Site], teams: list[Team], active: bool = True) -> User:
    """Create or update a user; the roles and sites a manager may hand out are limited to their own."""
    username = username.strip()
    if not policy.may_grant(actor, role):
        raise PeopleRefused(_l("You cannot give this role."))
    if not policy.allows(actor, "all_sites") and any(s.id not in actor.site_ids for s in sites):
        raise PeopleRefused(_l("You can only give access to your own sites."))
    if any(t.site_id not in {s.id for s in sites} for t in teams):
        raise PeopleRefused(_l("Each team must belong to one of the user's sites."))
    if policy.role_holds(role, "team_member") and not teams:
        raise PeopleRefused(_l("A crew member needs at least one team."))
    clash = session.scalar(select(User).where(func.lower(User.username) == username.lower()))
    if clash is not None and clash is not user:
        raise PeopleRefused(_l("The username %(name)s is taken.", name=username))
    if user is None:
        user = User(username=username, password_hash="!")  # no password until one is set
        session.add(user)
    if user is actor and not active:
        raise PeopleRefused(_l("You cannot deactivate yourself."))
    if user.id is not None and user.active and not active:
        from app.services.auth import end_sessions

        end_sessions(session, user)  # a deactivated user's open sessions end now, not in 12 hours
    user.username, user.display_name, user.role, user.active = username, display_name.strip(), role, active
    user.sites, user.teams = list(sites), list(teams) if policy.role_holds(role, "team_member") else []
    session.flush()  # its id, for the page that shows its first password
    return user


def reset_password(session, user: User) -> str:
    """A new temporary password, shown once to the manager to hand over; the user's sessions end."""
    from app.services.auth import change_password

    password = "-".join(secrets.token_urlsafe(4) for _ in range(3))
    change_password(session, user, password)
    return password
