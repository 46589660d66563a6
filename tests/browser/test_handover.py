import io, re
from PIL import Image
from playwright.sync_api import expect
from tests.browser.conftest import login

def jpeg():
    b = io.BytesIO(); Image.new("RGB", (800, 600), (200, 30, 30)).save(b, "JPEG"); return b.getvalue()

def test_explore(demo, phone_factory, shot):
    p = phone_factory()
    login(p, "engineer")
    print("landed", p.url)
    p.locator("a.unit-tile", has_text="3-1-1201").tap()
    p.wait_for_load_state()
    print(p.url)
    p.get_by_label("Owner present (name)").fill("张伟")
    p.get_by_role("button", name="Start inspection").tap()
    p.wait_for_load_state()
    print(p.url, p.locator("ol.cplist").inner_text())
    p.locator("ol.cplist a", has_text="Kitchen").tap()
    p.wait_for_load_state()
    it = p.locator("form.item").first
    print(it.inner_text())
    with p.expect_response(lambda r: r.request.method == "POST") as r:
        it.locator("input[type=file][name=photos]").set_input_files({"name": "a.jpg", "mimeType": "image/jpeg", "buffer": jpeg()})
    print("photo post", r.value.status)
    p.wait_for_timeout(300)
    print(it.inner_html()[:3000])
    with p.expect_response(lambda r: r.request.method == "POST") as r:
        it.locator("button.choice-fail").tap()
    print("defect post", r.value.status)
    p.wait_for_timeout(300)
    print(it.inner_text())
    shot(p, "x")
