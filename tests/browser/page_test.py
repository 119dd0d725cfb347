"""The web page in a real headless Chromium, driven as a person would use it, against live
servers of the release binary. Run by .ci/browser.sh, which installs what it needs:

    python3 tests/browser/page_test.py BINARY AXE_JS SCREENSHOT_DIR

Each check raises on failure; the script exits non-zero on the first one.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
JANE = "+14155550123"
ADA_LINE = "+14155550100"
STRANGER = "+14155550199"
ADMIN_TOKEN = "page-test-admin-token"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The binary on a free port over a temporary SQLite database (the demo org)."""

    def __init__(self, binary, *args, env=None):
        self.dir = tempfile.TemporaryDirectory()
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.token = (env or {}).get("FASTCALL_ADMIN_TOKEN")
        self.log = open(os.path.join(self.dir.name, "server.log"), "w")
        self.process = subprocess.Popen(
            [binary, "--addr", f"127.0.0.1:{self.port}", "--database-url",
             f"sqlite:{self.dir.name}/page.db", "--log", "warn", *args],
            env={"PATH": os.environ.get("PATH", ""), **(env or {})},
            stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(200):
            try:
                urllib.request.urlopen(self.base + "/livez", timeout=1)
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        raise RuntimeError("the server did not come up")

    def api(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                text = response.read().decode()
                return response.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read().decode() or "null")

    def sms(self, to, body, org=""):
        status, answer = self.api("POST", f"{org}/actions/SubscriberSMSInvocable",
                                  {"toPhone": to, "bodyText": body})
        assert status == 200, answer
        return answer

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=20)
        self.log.close()
        self.dir.cleanup()


class Watched:
    """A page whose console errors and requests are kept."""

    def __init__(self, context, base):
        self.page = context.new_page()
        self.errors = []
        self.outside = []
        self.page.on("console", self.console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: None if r.url.startswith((base, "data:")) else self.outside.append(r.url))
        self.page.on("dialog", lambda dialog: dialog.accept())

    def console(self, message):
        # The browser logs each 4xx/5xx answer to a fetch as an error: the tests provoke
        # those on purpose (a refused SMS, a wrong token), and the page shows them. Anything
        # else is the page's own error.
        provoked = message.text.startswith("Failed to load resource: the server responded with a status of")
        if message.type == "error" and not provoked:
            self.errors.append(message.text)

    def assert_clean(self, what):
        assert not self.errors, f"{what}: console errors {self.errors}"
        assert not self.outside, f"{what}: requests left the machine: {self.outside}"


def check(name, run):
    started = time.time()
    run()
    print(f"ok   {name} ({time.time() - started:.1f} s)", flush=True)


def main(binary, axe_path, shots):
    os.makedirs(shots, exist_ok=True)
    server = Server(binary, "--progression", "manual")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            run_all(browser, server, axe_path, shots, binary)
        finally:
            browser.close()
            server.stop()


def run_all(browser, server, axe_path, shots, binary):
    server.sms(JANE, "Your appointment is confirmed for 10:30")
    status, org = server.api("GET", "/_emulator/org")
    assert status == 200, org
    status, created = server.api("PUT", "/orgs/sandbox/_emulator/org", org)
    assert status == 200, created
    server.sms(STRANGER, "Hello from the sandbox", org="/orgs/sandbox")

    context = browser.new_context(viewport={"width": 1280, "height": 860})
    watched = Watched(context, server.base)
    page = watched.page
    threads = page.locator("#threads")

    def records_are_listed():
        page.goto(server.base + "/")
        expect(page.locator("#live")).to_have_text("live")
        expect(threads).to_contain_text(JANE)
        expect(threads).not_to_contain_text(STRANGER)

    def a_new_sms_appears_without_a_reload():
        server.sms("+14155550124", "Sent while the page was open")
        expect(threads).to_contain_text("+14155550124")
        expect(threads).to_contain_text("Sent while the page was open")

    def a_reply_as_the_customer_appears_and_stop_opts_out():
        threads.get_by_role("button", name=JANE).first.click()
        reply = page.get_by_placeholder("Reply, or STOP / START / HELP")
        reply.fill("Running 10 minutes late")
        page.get_by_role("button", name="Reply as the customer").click()
        expect(page.locator("#thread .bubble.in")).to_contain_text("Running 10 minutes late")
        reply.fill("STOP")
        page.get_by_role("button", name="Reply as the customer").click()
        expect(page.locator("#thread .notice")).to_contain_text("opted out")
        expect(threads).to_contain_text("opted out")
        # Sending to her from that line is now refused, and the form says why.
        send = page.locator("#thread form").first
        send.get_by_placeholder("Message to send").fill("One more thing")
        send.get_by_role("button", name="Send").click()
        expect(send.locator(".form-error")).to_contain_text("Error 100")
        expect(send.locator(".form-error")).to_contain_text("21610")
        page.get_by_role("tab", name="Opt-outs").click()
        expect(page.locator("#optouts")).to_contain_text(JANE)
        page.get_by_role("tab", name="Conversations").click()

    def the_compose_form_explains_an_error():
        page.locator("#compose-to").fill("not a number")
        page.locator("#compose-body").fill("Hello")
        page.get_by_role("button", name="Send", exact=True).first.click()
        expect(page.locator("#compose-error")).to_contain_text("Error 104")

    def a_manual_move_updates_the_timeline():
        page.locator("#thread .bubble.out .bubble-body").first.click()
        dialog = page.locator("#detail")
        expect(dialog).to_be_visible()
        dialog.get_by_label("Move to (as the provider would report)").select_option("Sent")
        dialog.get_by_role("button", name="Move").click()
        expect(dialog.locator(".timeline")).to_contain_text("Sent")
        # A move made elsewhere arrives live.
        message = page.locator("#detail-body").get_attribute("data-id")
        status, moved = server.api("POST", f"/_emulator/messages/{message}/status", {"status": "Delivered"})
        assert status == 200, (message, moved)
        expect(dialog.locator(".timeline")).to_contain_text("Delivered")
        page.screenshot(path=os.path.join(shots, "page-detail.png"))
        dialog.get_by_role("button", name="Close").click()
        expect(page.locator("#thread .bubble.out .badge").first).to_have_text("Delivered")
        page.screenshot(path=os.path.join(shots, "page-conversations.png"))

    def calls_show_their_timeline():
        status, call = server.api("POST", "/actions/SubscriberCallInvocable",
                                  {"toPhone": JANE, "ivrId": "a0IDn0000001MnuMAE"})
        assert status == 200, call
        page.get_by_role("tab", name="Calls").click()
        expect(page.locator("#calls")).to_contain_text("Main menu")
        server.api("POST", f"/_emulator/calls/{call['id']}/status", {"status": "Ringing"})
        expect(page.locator("#calls .timeline")).to_contain_text("Ringing")
        page.screenshot(path=os.path.join(shots, "page-calls.png"))
        page.get_by_role("tab", name="Conversations").click()

    def switching_orgs_shows_only_that_org():
        page.locator("#org").select_option("sandbox")
        expect(threads).to_contain_text(STRANGER)
        expect(threads).not_to_contain_text(JANE)
        assert "org=sandbox" in page.url, page.url

    def reset_empties_the_org():
        page.get_by_role("button", name="Reset org").click()
        expect(threads).to_contain_text("No messages in the org sandbox yet")
        status, listed = server.api("GET", "/orgs/sandbox/_emulator/messages")
        assert status == 200 and listed["items"] == [], listed
        status, listed = server.api("GET", "/_emulator/messages")
        assert listed["items"], "the default org keeps its messages"

    def every_tab_renders():
        page.locator("#org").select_option("default")
        expect(threads).to_contain_text(JANE)
        for tab in ["Calls", "Tasks", "Users", "VoIP errors", "Opt-outs", "Org data", "Conversations"]:
            page.get_by_role("tab", name=tab).click()
            expect(page.get_by_role("tabpanel")).to_be_visible()
        page.get_by_role("tab", name="Users").click()
        expect(page.locator("#users")).to_contain_text("Ada Lovelace")
        page.get_by_role("tab", name="Conversations").click()

    for name, run in [
        ("records are listed", records_are_listed),
        ("a new SMS appears without a reload", a_new_sms_appears_without_a_reload),
        ("a reply as the customer appears; STOP opts out; the form explains 100", a_reply_as_the_customer_appears_and_stop_opts_out),
        ("the compose form explains 104", the_compose_form_explains_an_error),
        ("a manual move updates the timeline, live", a_manual_move_updates_the_timeline),
        ("calls show their timeline", calls_show_their_timeline),
        ("switching orgs shows only that org", switching_orgs_shows_only_that_org),
        ("reset empties the org", reset_empties_the_org),
        ("every tab renders", every_tab_renders),
    ]:
        check(name, run)
    watched.assert_clean("desktop")
    context.close()

    def a_phone_screen_has_no_horizontal_scroll():
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        small = Watched(phone, server.base)
        small.page.goto(server.base + "/")
        expect(small.page.locator("#threads")).to_contain_text(JANE)
        for tab in ["Conversations", "Calls", "Tasks", "Users", "VoIP errors", "Opt-outs", "Org data"]:
            small.page.get_by_role("tab", name=tab).click()
            overflow = small.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{tab}: {overflow} px of horizontal scroll at 390 px"
        small.page.get_by_role("tab", name="Conversations").click()
        small.page.screenshot(path=os.path.join(shots, "page-phone.png"), full_page=True)
        small.assert_clean("phone")
        phone.close()

    def axe_finds_no_serious_violation():
        # axe is injected as a script of its own, which the page's policy forbids: only here.
        audit = browser.new_context(viewport={"width": 1280, "height": 860}, bypass_csp=True)
        page = audit.new_page()
        page.goto(server.base + "/")
        expect(page.locator("#threads")).to_contain_text(JANE)
        page.locator("#threads button").first.click()
        page.add_script_tag(path=axe_path)
        for tab in ["Conversations", "Calls", "Users"]:
            page.get_by_role("tab", name=tab).click()
            result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
            bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
                   for v in result["violations"] if v["impact"] in ("serious", "critical")]
            assert not bad, f"{tab}: {bad}"
        audit.close()

    def the_admin_token_is_asked_for_and_kept_for_the_session():
        guarded = Server(binary, "--progression", "manual", env={"FASTCALL_ADMIN_TOKEN": ADMIN_TOKEN})
        try:
            guarded.sms(JANE, "Behind the token")
            tab = browser.new_context()
            watched = Watched(tab, guarded.base)
            page = watched.page
            page.goto(guarded.base + "/")
            dialog = page.locator("#token-dialog")
            expect(dialog).to_be_visible()
            page.locator("#token").fill("wrong")
            page.get_by_role("button", name="Use it").click()
            expect(page.locator("#token-error")).to_contain_text("refused")
            page.locator("#token").fill(ADMIN_TOKEN)
            page.get_by_role("button", name="Use it").click()
            expect(page.locator("#threads")).to_contain_text("Behind the token")
            expect(page.locator("#live")).to_have_text("live")
            kept = page.evaluate("[sessionStorage.length, localStorage.length]")
            assert kept == [1, 0], kept
            # 401s are expected before the token: only the outside-request check holds here.
            assert not watched.outside, watched.outside
            tab.close()
        finally:
            guarded.stop()

    check("a 390 px screen has no horizontal scroll", a_phone_screen_has_no_horizontal_scroll)
    check("axe-core finds no serious or critical violation", axe_finds_no_serious_violation)
    check("the admin token is asked for and kept for the session only", the_admin_token_is_asked_for_and_kept_for_the_session)


if __name__ == "__main__":
    main(*sys.argv[1:4])
