"""Client access in a real browser: the practice's owner invites a client's own staff member from the cockpit's
row to that one administration, the invitation arrives in the demo's mailbox, the staff member chooses a password
and then sees only that client: no cockpit link, one administration in the reports and the worklist's filter, and
another client's reports are a 404 (docs/cockpit.md#client-access). axe-core on each page, screenshots
``client-access-*.png``."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Page, expect

from bench.cockpit import seed
from connector import accounts, demo
from connector.storage import repos
from tests.web.conftest import needs_browser, serious_violations, shoot

pytestmark = needs_browser
CLIENT = "Client 0004 BV"
OTHER = "Client 0005 BV"
STAFF = "anna@client0004.example"


def _ids(stack: demo.DemoRun) -> dict[str, int]:
    with stack.runtime.sessions() as s:
        return {a.name: a.id for a in repos.list_administrations(s, stack.org_id)}


def test_invite_from_the_cockpit_and_see_only_that_client(stack: demo.DemoRun, english: Page, browser: Browser) -> None:
    rt = stack.runtime
    seed(rt, stack.org_id, 1, 11, 4, rt.today(stack.org_id), rt.clock())
    ids = _ids(stack)
    english.goto(f"{stack.web.url}/cockpit?lang=en")
    english.locator(f"#invite-{ids[CLIENT]}").click()
    expect(english.locator("h1")).to_have_text("People")
    expect(english.locator("#invite-access option[selected]")).to_have_text(f"Only {CLIENT} (a client's own staff)")
    english.fill("#invite-email", STAFF)
    english.select_option("#invite-role", "controller")
    assert serious_violations(english) == [], "axe on the members page with a client chosen"
    shoot(english, "client-access-invite-en")
    english.get_by_role("button", name="Send invitation").click()
    expect(english.locator("#notice")).to_have_text(f"Invitation sent to {STAFF}.")
    expect(english.locator("#members")).to_contain_text(CLIENT)
    with rt.sessions() as s:
        trail = [e.message for e in repos.audit_trail(s, stack.org_id, limit=5)]
    assert f"{STAFF} invited as controller to administration {ids[CLIENT]} only" in trail, f"audit: {trail}"

    (mail,) = [m for m in stack.mailbox.messages() if m["To"] == STAFF]
    body = next(p for p in mail.walk() if p.get_content_type() == "text/plain").get_payload(decode=True).decode()
    link = re.search(r"(http://\S+/invite/\S+)", body)
    assert link is not None, f"no invitation link in: {body}"
    context = browser.new_context(locale="nl-NL")
    try:
        page = context.new_page()
        page.goto(link.group(1))
        page.fill("#password", "the client's own password")
        page.fill("#repeat", "the client's own password")
        page.locator("form button[type=submit]").click()
        expect(page.locator("#user-email")).to_have_text(STAFF)
        expect(page.locator("#nav-cockpit")).to_have_count(0)
        page.goto(f"{stack.web.url}/reports")
        table = page.locator("main")
        expect(table).to_contain_text(CLIENT)
        expect(table).not_to_contain_text(OTHER)
        assert serious_violations(page) == [], "axe on the client's reports (nl)"
        shoot(page, "client-access-reports-nl")
        page.goto(f"{stack.web.url}/worklist")
        options = page.locator("#f-adm option").all_inner_texts()
        assert [o for o in options if o.startswith("Client")] == [CLIENT], f"the worklist offers {options}"
        shoot(page, "client-access-worklist-nl")
        other = page.goto(f"{stack.web.url}/policies/{ids[OTHER]}")
        assert other is not None and other.status == 404, "another client's policy page opened"
    finally:
        context.close()
    person = accounts.find_person(rt, STAFF)
    assert person is not None and accounts.memberships(rt, person.id)[0].administrations == (ids[CLIENT],)
