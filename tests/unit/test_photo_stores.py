"""The photo store's contract, held by the local directory and by a real S3 server (SeaweedFS on
loopback); the app on the S3 store serves photos only through its access-checked route; a store that
does not answer makes an upload say "try again" (nothing saved) and a photo 503, never a 500."""
import hashlib
import io

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.models import Answer, Photo
from app.services.storage import LocalPhotoStore, S3PhotoStore, StoreUnavailable, make_store
from tests.web.helpers import item_url, jpeg_bytes, other_site, started_morning

DATA = b"\xff\xd8 a photo's bytes \xff\xd9" * 50
KEY = hashlib.sha256(DATA).hexdigest()


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        yield LocalPhotoStore(tmp_path / "photos")
        return
    weed = request.getfixturevalue("seaweed")
    store = make_store({**weed.config, "S3_PREFIX": f"t-{tmp_path.name}/"})
    yield store
    store.close()


def test_round_trip_and_idempotent_put(store):
    assert not store.exists(KEY)
    store.put(KEY, DATA)
    store.put(KEY, DATA)  # the same photo twice: no error, one object
    assert store.exists(KEY) and store.get(KEY) == DATA
    store.delete(KEY)
    store.delete(KEY)  # already gone: no error
    assert not store.exists(KEY)


def test_missing_is_key_error(store):
    with pytest.raises(KeyError):
        store.get("0" * 64)


@pytest.mark.parametrize("key", ["../../etc/passwd", "A" * 64, "0" * 63, "0" * 64 + "\n", "", None])
def test_keys_that_are_not_a_sha256_are_refused(store, key):
    with pytest.raises(ValueError):
        store.put(key, DATA)
    with pytest.raises(ValueError):
        store.get(key)


def test_a_key_that_is_not_the_datas_hash_stores_nothing(store):
    other = hashlib.sha256(b"thumb").hexdigest()
    with pytest.raises(ValueError):
        store.put(other, DATA)
    assert not store.exists(other)


def test_objects_are_private_in_the_bucket(seaweed):
    """Nobody reads a photo from the bucket without the keys: only the app's checked route serves it."""
    import urllib.error
    import urllib.request

    store = make_store(seaweed.config)
    store.put(KEY, DATA)
    store.close()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{seaweed.endpoint}/{seaweed.config['S3_BUCKET']}/photos/{KEY}.jpg", timeout=5)
    refused.value.close()
    assert refused.value.code == 403


def test_a_store_that_does_not_answer_is_unavailable_not_a_crash():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    store = make_store({"PHOTO_STORE": "s3", "S3_ENDPOINT": f"http://127.0.0.1:{port}", "S3_REGION": "us-east-1",
                        "S3_BUCKET": "b", "S3_ACCESS_KEY": "k", "S3_SECRET_KEY": "s"})
    assert isinstance(store, S3PhotoStore)
    try:
        for call in (lambda: store.put(KEY, DATA), lambda: store.get(KEY), lambda: store.exists(KEY)):
            with pytest.raises(StoreUnavailable):
                call()
        assert not store.reachable()
    finally:
        store.close()


@pytest.fixture
def on_s3(app, seaweed, tmp_path):
    """The app's photos in the S3 bucket for one test."""
    saved = app.extensions["photo_store"]
    app.extensions["photo_store"] = make_store({**seaweed.config, "S3_PREFIX": f"app-{tmp_path.name}/"})
    yield app.extensions["photo_store"]
    app.extensions["photo_store"].close()
    app.extensions["photo_store"] = saved


def test_a_photo_taken_on_a_round_lives_in_the_bucket_and_is_served_checked(client, auth, demo, session, on_s3):
    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    resp = client.post(url, headers={"HX-Request": "true"}, content_type="multipart/form-data",
                       data={"csrf_token": token, "result": "fail", "photos": (io.BytesIO(jpeg_bytes()), "a.jpg")})
    assert resp.status_code == 200
    photo = session.scalar(select(Photo))
    assert on_s3.exists(photo.sha256) and on_s3.exists(photo.thumb_sha256)
    got = client.get(f"/photos/{photo.id}/full.jpg")
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    assert hashlib.sha256(got.data).hexdigest() == photo.sha256
    again = client.get(f"/photos/{photo.id}/full.jpg", headers={"If-None-Match": got.headers["ETag"]})
    assert again.status_code == 304
    other_site()
    client.post("/logout", data={"csrf_token": token})
    auth.login("sup.other")
    assert client.get(f"/photos/{photo.id}/full.jpg").status_code == 404


def test_with_the_store_down_an_upload_says_try_again_and_saves_nothing(client, auth, demo, session, seaweed,
                                                                        on_s3):
    auth.login()
    rnd = started_morning(demo)
    token = auth.token(f"/rounds/{rnd.id}/checkpoints/1")
    url, stop, item = item_url(rnd, "patrol_residential_common", "roads_clean")
    post = dict(headers={"HX-Request": "true", "Accept-Language": "en"}, content_type="multipart/form-data")
    ok = client.post(url, data={"csrf_token": token, "result": "pass", "photos": (io.BytesIO(jpeg_bytes()), "a.jpg")},
                     **post)
    assert ok.status_code == 200
    photo_id = session.scalar(select(Photo.id))
    on_s3.close()
    # A store that hangs: give up after a second (twice), as ROUNDS_S3_TIMEOUT says.
    current_app.extensions["photo_store"] = make_store({**seaweed.config, "S3_PREFIX": on_s3.prefix,
                                                        "S3_TIMEOUT": 1.0})
    seaweed.pause()
    try:
        url2, _, _ = item_url(rnd, "patrol_residential_common", "bins_not_overflowing")
        down = client.post(url2, data={"csrf_token": token, "result": "fail",
                                       "photos": (io.BytesIO(jpeg_bytes(color=(1, 2, 3))), "b.jpg")}, **post)
        assert down.status_code == 503
        assert "Not saved: photos cannot be stored just now. Try again in a moment." in down.get_data(as_text=True)
        assert session.scalar(select(func.count(Answer.id))) == 1  # the earlier answer only
        shown = client.get(f"/photos/{photo_id}/thumb.jpg", headers={"Accept-Language": "en"})
        assert shown.status_code == 503
    finally:
        seaweed.resume()
    assert client.get(f"/photos/{photo_id}/thumb.jpg").status_code == 200
