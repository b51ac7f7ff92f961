"""``web.token``: everything but /healthz asks for it; bearer header, or ?token= then a cookie."""

from __future__ import annotations

import logging

import pytest
import yarl

from bot.archive import Archive
from bot.config import Settings
from bot.web import COOKIE
from tests.bot.web.conftest import Client

TOKEN = "s3cret-reader-token-0123"
GUARDED = ("/", "/d/2026-02-03", "/d/2026-02-03/2", "/search?q=tag:RL", "/tags", "/feed.atom",
           "/metrics", "/static/reader.css")  # fmt: skip


@pytest.fixture
async def guarded(archive: Archive, serve) -> Client:  # type: ignore[no-untyped-def]
    return await serve(archive, token=TOKEN)


async def test_every_route_but_healthz_needs_the_token(guarded: Client) -> None:
    for path in GUARDED:
        response = await guarded.get(path, allow_redirects=False)
        assert response.status == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert TOKEN not in await response.text()
    assert (await guarded.get("/healthz")).status == 200


async def test_a_bearer_header_opens_every_route(guarded: Client) -> None:
    for path in GUARDED:
        ok = await guarded.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status == 200, path
        wrong = await guarded.get(path, headers={"Authorization": f"Bearer {TOKEN}x"})
        assert wrong.status == 401, path


async def test_a_token_in_the_url_becomes_a_cookie_and_leaves_the_url(guarded: Client) -> None:
    response = await guarded.get(f"/d/2026-02-03?token={TOKEN}", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/d/2026-02-03"
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert TOKEN not in cookie.value
    followed = await guarded.get("/search?q=tag:RL")  # the client keeps the cookie
    assert followed.status == 200
    guarded.session.cookie_jar.clear()
    assert (await guarded.get("/search?q=tag:RL")).status == 401
    forged = await guarded.get("/tags", cookies={COOKIE: TOKEN})
    assert forged.status == 401  # the cookie is a proof of the token, not the token


async def test_the_redirect_stays_on_the_reader(guarded: Client) -> None:
    url = f"{guarded.base}//evil.example/x?q=%E4%B8%AD&token={TOKEN}"
    response = await guarded.session.get(yarl.URL(url, encoded=True), allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/evil.example/x?q=%E4%B8%AD"


async def test_feeds_take_the_token_in_place(guarded: Client) -> None:
    response = await guarded.get("/feed.atom", params={"q": "tag:RL", "token": TOKEN},
                                 allow_redirects=False)  # fmt: skip
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/atom+xml")
    assert COOKIE in response.cookies
    guarded.session.cookie_jar.clear()
    wrong = await guarded.get("/feed.atom", params={"token": "nope"})
    assert wrong.status == 401


async def test_the_token_guards_metrics_even_without_the_reader(archive: Archive, serve) -> None:  # type: ignore[no-untyped-def]
    client = await serve(archive, Settings(web={"port": 0, "token": TOKEN}))
    assert (await client.get("/metrics")).status == 401
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/", headers={"Authorization": f"Bearer {TOKEN}"})).status == 404
    ok = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert ok.status == 200


async def test_the_token_is_never_logged(guarded: Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await guarded.get(f"/tags?token={TOKEN}")
    await guarded.get("/tags", headers={"Authorization": f"Bearer {TOKEN}"})
    await guarded.get("/tags?token=wrong")
    assert TOKEN not in caplog.text
