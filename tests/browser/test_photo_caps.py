"""Choosing too many photos on a round item, on a phone: the refusal shows on that item, in view,
in the user's language, with the note kept; nothing is stored."""
import io

import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from app.extensions import db
from app.models import Answer, Photo
from tests.browser.conftest import check_page, login
from tests.web.helpers import started_morning

MESSAGES = {"en-US": ("You chose 11 photos; send at most 10 at a time.", "Up to 10", "Note"),
            "zh-CN": ("您选了 11 张照片，一次最多 10 张。", "最多 10 张", "备注")}


def small_jpeg(shade: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), (shade, 120, 60)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_eleven_photos_on_a_round_item_are_refused_on_the_item(demo, phone_factory, shot, locale):
    rnd = started_morning(demo)
    db.session.commit()
    page = phone_factory(locale)
    login(page)
    page.goto(f"/rounds/{rnd.id}/checkpoints/1")
    page.wait_for_load_state()
    refusal, hint, note_label = MESSAGES[locale]
    item = page.locator("form.item").nth(5)  # far enough down that the page has to scroll to it
    expect(item.locator(".photo-cap")).to_have_text(hint)
    item.locator("summary", has_text=note_label).tap()
    item.locator("textarea[name=note]").fill("bins by the gate overflowing")
    item_id = item.get_attribute("id")
    shot(page, "before")

    item.locator("input[type=file]").set_input_files([
        {"name": f"IMG_{i:04d}.jpg", "mimeType": "image/jpeg", "buffer": small_jpeg(i * 20)} for i in range(11)])

    item = page.locator(f"#{item_id}")
    error = item.locator(".error[role=alert]")
    expect(error).to_have_text(refusal)
    expect(error).to_be_in_viewport()
    expect(item).to_have_class("item has-error")
    expect(item.locator("textarea[name=note]")).to_have_value("bins by the gate overflowing")
    full = shot(page, "refused")
    # What the supervisor sees without scrolling: the item with its refusal.
    page.screenshot(path=str(full.with_name("03-refused-in-view.png")), caret="initial")
    check_page(page)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Photo.id))) == 0
    assert db.session.scalar(select(func.count(Answer.id))) == 0
