"""Permissions are decided in the policy module only: no view, service or template compares a role."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POLICY = {ROOT / "app" / "services" / "policy.py"}
# A role compared or matched: user.role == "x", role in (...), User.role.in_(...), r != "admin" on roles …
COMPARISON = re.compile(r"""\brole\s*(==|!=|\bnot\s+in\b|\bin\b)|\brole\.in_\(|\.role\s*\)?\s*(==|!=)""")


def offenders() -> list[str]:
    found = []
    for path in sorted((ROOT / "app").rglob("*.py")) + sorted((ROOT / "templates").rglob("*.html")):
        if path in POLICY:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if COMPARISON.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    return found


def test_no_role_comparison_outside_the_policy():
    found = offenders()
    assert not found, "ask the policy (can / allows / scope / holders) instead:\n" + "\n".join(found)


def test_the_check_finds_what_it_is_for(tmp_path):
    """The pattern catches the shapes the code used to have (so the test above can fail)."""
    for line in ('if current_user.role not in LEADS:', '{% if current_user.role in ("manager", "admin") %}',
                 'select(User).where(User.role == "crew")', 'return user.role != "crew" or x',
                 'if role == "crew" and not teams:'):
        assert COMPARISON.search(line), line
    for line in ('form.role.choices = roles', 'ROLE_LABELS.get(u.role, u.role)', 'order_by(User.role)'):
        assert not COMPARISON.search(line), line
