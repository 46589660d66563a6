"""Every string the user sees is translated in zh_Hans and en, with the same placeholders."""
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
METHODS = [("**.py", "python"), ("**.html", "jinja2")]
KEYWORDS = {"_": None, "_l": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None,
            # One English word with two meanings gets two messages, told apart by a context.
            "pgettext": ((1, "c"), 2), "lazy_pgettext": ((1, "c"), 2), "_lp": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%\((\w+)\)")


def source_messages() -> set[tuple[str | None, str]]:
    """(context, id) of every message in the source: one id may stand for two meanings."""
    found = set()
    for folder in ("app", "templates"):
        for _file, _line, msg, _comments, ctx in extract_from_dir(
                str(ROOT / folder), METHODS, keywords={**KEYWORDS}):
            found.add((ctx, msg[0] if isinstance(msg, tuple) else msg))
    return found


@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_catalog_is_complete(locale):
    with (ROOT / "app" / "translations" / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=locale)
    translated = {}
    for m in catalog:
        if m.id and not m.fuzzy:
            key = (m.context, m.id[0] if isinstance(m.id, tuple) else m.id)
            text = m.string[0] if isinstance(m.string, tuple) else m.string
            if text:
                translated[key] = text
    source = source_messages()
    assert len(source) > 100  # the extraction itself works
    missing = sorted(source - set(translated))
    assert not missing, f"untranslated in {locale} (run `flask translate update`): {missing}"
    for key, text in translated.items():
        assert set(PLACEHOLDER.findall(key[1])) == set(PLACEHOLDER.findall(text)), (locale, key)


def test_one_word_two_meanings_two_messages():
    """The app's name and the patrol walks are both "Rounds" in English, never in Chinese."""
    with (ROOT / "app" / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale="zh_Hans")
    assert ("patrol walks", "Rounds") in source_messages()
    brand, walks = catalog.get("Rounds", context="app name"), catalog.get("Rounds", context="patrol walks")
    assert brand.string == "巡查通" and walks.string and walks.string != brand.string
    assert catalog.get("Due", context="callback").string != catalog.get("Due").string


def test_no_gettext_inside_f_strings():
    """Babel cannot see _() inside an f-string, so such a string would never be translated."""
    pattern = re.compile(r"""\bf(["'])[^"'\n]*\{\s*_l?\(""")
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in (ROOT / "app").rglob("*.py")
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
    assert not offenders, offenders


def test_every_checklist_category_has_a_label():
    """Categories show in the dashboard and the project view: each needs a translatable label."""
    import yaml

    from app.labels import CATEGORY_LABELS

    data = yaml.safe_load((ROOT / "app" / "seed" / "checklists.yaml").read_text(encoding="utf-8"))
    categories = {i["category"] for t in data["templates"] for i in t["items"]}
    assert categories - set(CATEGORY_LABELS) == set()
