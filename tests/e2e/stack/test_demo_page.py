"""The demo chat page in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not os.path.exists(CHROMIUM):
    if os.environ.get("CI"):
        raise RuntimeError("CI must install Debian's chromium (see .ci/run)")
    pytest.skip("Debian chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


def sign_in(browser, url: str, user: str):
    page = browser.new_context().new_page()
    page.goto(url)
    page.fill("#user", user)
    page.click("#signin")
    page.wait_for_function("document.getElementById('status').textContent.startsWith('connected')", timeout=15000)
    return page


def test_a_message_sent_from_one_page_appears_in_the_other(browser, local_stack):
    alice = sign_in(browser, local_stack.base_url + "/", "alice-web")
    bob = sign_in(browser, local_stack.base_url + "/", "bob-web")
    alice.fill("#text", "hello bob")
    alice.click("#send-all")
    bob.wait_for_selector("#messages li:has-text('hello bob')", timeout=10000)
    assert "alice-web" in bob.inner_text("#messages")


def test_group_and_user_sends_from_the_page(browser, local_stack):
    carol = sign_in(browser, local_stack.base_url + "/", "carol-web")
    dan = sign_in(browser, local_stack.base_url + "/", "dan-web")
    dan.fill("#group", "web-room")
    dan.click("#join")
    dan.wait_for_selector("#messages li:has-text('joined web-room')", timeout=10000)
    carol.fill("#text", "to the room")
    carol.fill("#to-group", "web-room")
    carol.click("#send-group")
    dan.wait_for_selector("#messages li:has-text('to the room')", timeout=10000)
    carol.fill("#text", "just for dan")
    carol.fill("#to-user", "dan-web")
    carol.click("#send-user")
    dan.wait_for_selector("#messages li:has-text('just for dan')", timeout=10000)
    dan.screenshot(path=str(local_stack.state_dir / "demo.png"))
    assert "just for dan" not in carol.inner_text("#messages")


def test_who_is_in_the_group_and_kick_user_from_the_page(browser, local_stack):
    erin = sign_in(browser, local_stack.base_url + "/", "erin-web")
    fred = sign_in(browser, local_stack.base_url + "/", "fred-web")
    for page in (erin, fred):
        page.fill("#group", "mods")
        page.click("#join")
        page.wait_for_selector("#messages li:has-text('joined mods')", timeout=10000)
    erin.click("#who")
    erin.wait_for_selector("#members li:has-text('fred-web (1 connection)')", timeout=10000)
    assert erin.inner_text("#members").splitlines() == ["erin-web (1 connection)", "fred-web (1 connection)"]
    erin.fill("#kick-user", "fred-web")
    erin.click("#kick")
    erin.wait_for_selector("#messages li:has-text('kicked fred-web')", timeout=10000)
    fred.wait_for_function("document.getElementById('status').textContent.startsWith('closed')", timeout=15000)
    assert "kicked by erin-web" in fred.inner_text("#status")
    assert erin.inner_text("#status").startswith("connected")


def test_a_chat_message_sent_over_the_connection_goes_round_through_the_backend(browser, local_stack):
    # browser → service (connection.send) → upstream receiver → events queue → sample backend
    # → facade broadcast → every browser, the sender's name being the user id the service vouches for.
    erin = sign_in(browser, local_stack.base_url + "/", "erin-web")
    frank = sign_in(browser, local_stack.base_url + "/", "frank-web")
    erin.fill("#text", "typed in erin's browser")
    erin.click("#send-chat")
    for page in (frank, erin):
        item = page.wait_for_selector("#messages li:has-text(\"typed in erin's browser\")", timeout=15000)
        assert item.inner_text().startswith("erin-web")


def test_the_page_on_another_origin_negotiates_connects_and_receives_through_cors(browser, local_stack):
    # http://localhost:<port> is another origin than the facade at http://127.0.0.1:<port>: the
    # official client negotiates with credentials, which the local host allows for that origin
    # exactly as the function app's CORS in infra/bicep does (explicit origins, credentials).
    port = local_stack.base_url.rsplit(":", 1)[1]
    remote = sign_in(browser, f"http://localhost:{port}/", "erin-cors")
    local = sign_in(browser, local_stack.base_url + "/", "frank-cors")
    local.fill("#text", "across origins")
    local.click("#send-all")
    remote.wait_for_selector("#messages li:has-text('across origins')", timeout=10000)
    remote.fill("#text", "and back")
    remote.click("#send-all")
    local.wait_for_selector("#messages li:has-text('and back')", timeout=10000)


def test_a_page_on_an_origin_cors_does_not_list_cannot_call_the_facade(browser, local_stack):
    page = browser.new_context().new_page()
    page.goto(local_stack.base_url + "/")
    outcome = page.evaluate("""async (url) => {
        try { await fetch(url, {method: "POST", credentials: "include"}); return "answered"; }
        catch (error) { return "refused"; }
    }""", local_stack.base_url.replace("127.0.0.1", "localhost") + "/api/v1/hubs/chat/negotiate")
    # The page's origin (127.0.0.1) is not the listed one (localhost): the browser blocks the answer.
    assert outcome == "refused"
