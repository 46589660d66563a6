"""A resident on a phone (390×844, touch, a fresh context in Chinese, no account): scans a lobby's QR code,
reports a wet floor with a photo, their unit and phone, lands on their private page; the service centre
triages, fixes (after photo) and verifies; the resident sees what was done and the after photo, taps
"not satisfied" and the order is reopened. The same pages in English, and at 360 px with nothing
sticking out sideways. Screenshots in test-artefacts/screenshots/<test>/.
"""
import io
import re

from flask import current_app
from PIL import Image, ImageDraw
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import ResidentReport, WorkOrder
from app.services import residents as svc
from app.services import workorders as wo
from app.services.uploads import normalise_all, store_photos
from tests.browser.conftest import check_page, no_horizontal_scroll


def jpeg(color=(90, 150, 220), width=1200, height=900) -> bytes:
    img = Image.new("RGB", (width, height), color)
    ImageDraw.Draw(img).ellipse((300, 250, 900, 650), fill=(230, 230, 240))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def after_photo(site):
    cfg = current_app.config
    [img] = normalise_all([jpeg((200, 200, 190))], max_bytes=cfg["MAX_PHOTO_BYTES"], max_pixels=cfg["MAX_PHOTO_PIXELS"],
                          long_edge=cfg["PHOTO_LONG_EDGE"], thumb_edge=cfg["THUMB_LONG_EDGE"])
    return store_photos(db.session, current_app.extensions["photo_store"], site, None, [img])[0]


def test_resident_scans_reports_follows_and_is_not_satisfied(demo, phone_factory, shot, tmp_path):
    lobby = svc.new_place(db.session, demo.site, kind="lobby", name_zh="3号楼大堂", name_en="Building 3 lobby",
                          area=demo.site.areas[0])
    code = lobby.code
    db.session.commit()
    photo = tmp_path / "floor.jpg"
    photo.write_bytes(jpeg())

    phone = phone_factory("zh-CN")
    phone.goto(f"/r/{code}")  # what the phone's camera does with the printed code
    expect(phone.get_by_role("heading", name="报事")).to_be_visible()
    expect(phone.locator("main")).to_contain_text("您的位置：3号楼大堂")
    check_page(phone)
    shot(phone, "report-form-zh")

    # Sent with no description: refused in place, in Chinese, the category kept.
    phone.get_by_text("保洁", exact=True).tap()
    phone.get_by_role("button", name="提交").tap()
    expect(phone.locator("main [role=alert]").first).to_contain_text("请简单描述一下问题")
    expect(phone.get_by_label("保洁")).to_be_checked()
    shot(phone, "report-refused-zh")

    phone.get_by_label("是什么问题？").fill("大堂电梯口地面有一大片积水，很滑")
    phone.set_input_files("input[type=file]", str(photo))
    phone.locator("details.contact summary").tap()
    phone.get_by_label("您的房号，如 3-1-1201（可不填）").fill("3-1-1201")
    phone.get_by_label("您的电话，需要回访时填写（可不填）").fill("13800001234")
    check_page(phone)
    shot(phone, "report-filled-zh")
    phone.get_by_role("button", name="提交").tap()

    expect(phone).to_have_url(re.compile(r"/r/f/[A-Za-z0-9_-]{40,}$"))
    link = phone.url
    expect(phone.locator("main")).to_contain_text("谢谢，您的报事已提交")
    expect(phone.locator(".stage")).to_contain_text("已收到")
    expect(phone.locator("main")).to_contain_text("大堂电梯口地面有一大片积水")
    expect(phone.locator("main img")).to_have_count(1)
    check_page(phone)
    shot(phone, "follow-received-zh")

    # The service centre triages, the crew fixes with an after photo, the supervisor verifies.
    db.session.rollback()
    report = db.session.scalar(select(ResidentReport))
    order = report.order
    assert order.source == "resident" and order.team.code == "cleaning" and len(order.before_photos) == 1
    svc.confirm(db.session, order, demo.users["supervisor"], severity="critical")
    wo.act(db.session, order, demo.users["crew.cleaning"], "resolve", note="已拖干地面，并放置了小心地滑警示牌",
           photos=[after_photo(demo.site)])
    wo.act(db.session, order, demo.users["supervisor"], "verify")
    db.session.commit()

    phone.reload()
    expect(phone.locator(".stage")).to_contain_text("已完成")
    expect(phone.locator("main")).to_contain_text("已拖干地面")
    expect(phone.get_by_role("img", name="处理后照片 1")).to_be_visible()
    main_text = phone.locator("main").inner_text()
    for name in (demo.users["crew.cleaning"].display_name, demo.users["supervisor"].display_name):
        assert name not in main_text
    assert not re.search(r"[A-Za-z]{3,}", main_text), main_text  # no English words or codes on the zh page
    check_page(phone)
    shot(phone, "follow-done-zh")

    # In English too.
    phone.get_by_role("button", name="Switch to English").tap()
    expect(phone.locator(".stage")).to_contain_text("Done")
    expect(phone.locator("main")).to_contain_text("Are you satisfied")
    check_page(phone)
    shot(phone, "follow-done-en")
    phone.get_by_role("button", name="切换到中文").tap()

    # At 360 px nothing sticks out sideways.
    narrow = phone_factory("zh-CN", width=360, height=740)
    narrow.goto(link)
    no_horizontal_scroll(narrow)
    narrow.goto(f"/r/{code}")
    no_horizontal_scroll(narrow)

    phone.get_by_role("button", name="不满意").tap()
    expect(phone.locator("main")).to_contain_text("谢谢您的反馈，我们会重新处理")
    expect(phone.locator(".stage")).to_contain_text("已派给")
    expect(phone.get_by_role("button", name="不满意")).to_have_count(0)
    check_page(phone)
    shot(phone, "follow-reopened-zh")
    db.session.rollback()
    db.session.expire_all()  # (nothing was begun since the commit above: the rollback alone expires nothing)
    order = db.session.get(WorkOrder, order.id)
    assert order.status == "open" and order.reopen_count == 1 and order.callback == "unsatisfied"


def test_report_form_in_english_and_a_withdrawn_code(demo, phone_factory, shot):
    lobby = svc.new_place(db.session, demo.site, kind="garage", name_zh="地下车库入口", name_en="Garage entrance")
    code = lobby.code
    db.session.commit()
    phone = phone_factory("zh-CN")
    phone.goto(f"/r/{code}")
    phone.get_by_role("button", name="Switch to English").tap()
    expect(phone.get_by_role("heading", name="Report a problem")).to_be_visible()
    expect(phone.locator("main")).to_contain_text("You are at: Garage entrance")
    check_page(phone)
    shot(phone, "report-form-en")
    svc.revoke_place(db.session, db.session.merge(lobby))
    db.session.commit()
    phone.goto(f"/r/{code}")
    expect(phone.get_by_role("heading", name="This code is no longer in use")).to_be_visible()
    check_page(phone)
    shot(phone, "code-withdrawn-en")
