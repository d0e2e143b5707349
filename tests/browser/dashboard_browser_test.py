#!/usr/bin/python3
"""The dashboard's page in a real headless Chromium, against a real `vigil dashboard`.

usage: dashboard_browser_test.py VIGIL_BINARY SOURCE_DIR   (ctest: dashboard_browser_test)

Starts `vigil dev-broker` and `vigil dashboard` (tokens file written here), signs in through the
page, then makes alerts appear on vigil.alerts for real (`vigil produce` of two scenarios and
`vigil run --until-caught-up`) and checks, each within a bounded wait:
  - both alerts arrive in the live list over the stream; the charts are drawn;
  - an officer's timeline asks for a purpose before it shows anything, then shows the alert's
    summary, evidence and review; the reviewer's decision shows in the timeline and the list,
    and a decision made by another client shows live (review events on the stream);
  - the view is in the audit with its purpose;
  - a welfare-only token's page shows the welfare alert and never the misconduct one; a bad
    token is refused and asked for again;
  - the browser console has no SEVERE entry.
Screenshots: dashboard.png and dashboard-timeline.png beside the vigil binary (the build dir).
Needs Debian's chromium, chromium-driver and python3-selenium (deploy/install-deps.sh): without
them the test fails saying so, it does not skip.
"""
import json
import os
import secrets
import select
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree by the import below

from browser_common import (WAIT_S, browser, fail, painted_pixels,  # noqa: E402,F401
                            severe_entries, wait_for)
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


class Child:
    """A vigil command; its first stdout line is an address (dev-broker, dashboard)."""

    def __init__(self, args, log_path):
        self.args = args
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)

    def first_line(self, limit_s=WAIT_S):
        ready, _, _ = select.select([self.proc.stdout], [], [], limit_s)
        line = self.proc.stdout.readline().strip() if ready else ""
        if not line:
            fail(f"{' '.join(self.args[:2])} printed no address within {limit_s} s; its log:\n"
                 + self.log_text())
        return line

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def run(args, what):
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        fail(f"{what} exited {done.returncode}:\n{done.stderr}")
    return done




def api(url, token, path, body=None):
    request = urllib.request.Request(url + path, method="POST" if body is not None else "GET",
                                     data=json.dumps(body).encode() if body is not None else None)
    request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")






def sign_in(driver, url, token):
    driver.get(url)
    wait_for("the token prompt", lambda: driver.find_element(By.ID, "token-input").is_displayed())
    field = driver.find_element(By.ID, "token-input")
    field.clear()
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()


def row_for(driver, officer):
    """The live list's row of `officer`'s alert, or None."""
    for row in driver.find_elements(By.CSS_SELECTOR, "#alert-rows tr"):
        if row.find_element(By.CSS_SELECTOR, "button.officer").text == officer:
            return row
    return None


def canvas_drawn(driver, canvas_id):
    """Number of painted pixels of the canvas with that id (0: absent or blank)."""
    canvases = driver.find_elements(By.ID, canvas_id)
    return painted_pixels(driver, canvases[0]) if canvases else 0


def main():
    if len(sys.argv) != 3:
        fail("usage: dashboard_browser_test.py VIGIL_BINARY SOURCE_DIR")
    vigil, source_dir = os.path.abspath(sys.argv[1]), sys.argv[2]
    build_dir = os.path.dirname(vigil)
    scenarios = os.path.join(source_dir, "tests", "scenarios")
    work = tempfile.mkdtemp(prefix="vigil-browser-test-")
    children, drivers = [], []
    try:
        broker = Child([vigil, "dev-broker", "--partitions", "2"], os.path.join(work, "broker.log"))
        children.append(broker)
        brokers = broker.first_line()

        reviewer_token, welfare_token = secrets.token_hex(16), secrets.token_hex(16)
        tokens = os.path.join(work, "tokens")
        with open(tokens, "w") as f:
            f.write("# browser test tokens\n")
            f.write(f"{reviewer_token} rev.one misconduct,welfare,reviewer,auditor\n")
            f.write(f"{welfare_token} wel.only welfare\n")
        dashboard = Child([vigil, "dashboard", "--brokers", brokers, "--listen", "127.0.0.1:0",
                           "--tokens", tokens], os.path.join(work, "dashboard.log"))
        children.append(dashboard)
        url = dashboard.first_line()
        if not url.startswith("http://"):
            fail(f"vigil dashboard's first line is not its URL: {url!r}")

        # The reviewer signs in before any alert exists: alerts must arrive over the stream.
        page = browser()
        drivers.append(page)
        sign_in(page, url, reviewer_token)
        wait_for("the signed-in name", lambda: page.find_element(By.ID, "me-name").text == "rev.one")
        roles = page.find_element(By.ID, "me-roles").text
        if "reviewer" not in roles or "welfare" not in roles:
            fail(f"roles shown: {roles!r}")
        wait_for("the stream connected", lambda: page.find_element(By.ID, "conn").get_attribute("data-state") == "live")

        # Alerts on vigil.alerts for real: a welfare one (bradford_factor, MP7501) and misconduct
        # ones (complainant_lookup, MP4001 and MP4003).
        for scenario in ("bradford-factor", "complainant-lookup"):
            run([vigil, "produce", "--quiet", "--brokers", brokers, "--input",
                 os.path.join(scenarios, f"{scenario}.events.ndjson")], f"vigil produce {scenario}")
        run([vigil, "run", "--quiet", "--brokers", brokers, "--state-dir", os.path.join(work, "state"),
             "--until-caught-up"], "vigil run --until-caught-up")
        misconduct_row = wait_for("the misconduct alert of MP4001 in the live list", lambda: row_for(page, "MP4001"))
        wait_for("the welfare alert of MP7501 in the live list", lambda: row_for(page, "MP7501"))
        misconduct_id = misconduct_row.get_attribute("data-alert-id")
        if "kind-misconduct" not in misconduct_row.get_attribute("class"):
            fail("the misconduct row is not marked as misconduct")
        if "kind-welfare" not in row_for(page, "MP7501").get_attribute("class"):
            fail("the welfare row is not marked as welfare")

        # The charts: both canvases exist and were drawn (a year, so the scenarios' dates count).
        Select(page.find_element(By.ID, "summary-days")).select_by_value("365")
        for canvas in ("chart-rule", "chart-severity"):
            wait_for(f"the {canvas} canvas drawn", lambda: canvas_drawn(page, canvas) > 500)
        wait_for("the summary counting the new alerts",
                 lambda: "New" in page.find_element(By.ID, "states").text
                 and page.find_element(By.CSS_SELECTOR, "#states .tile-n").text not in ("", "0"))
        page.save_screenshot(os.path.join(build_dir, "dashboard.png"))

        # The timeline asks for a purpose first and shows nothing before it is given.
        misconduct_row.find_element(By.CSS_SELECTOR, "button.officer").click()
        wait_for("the purpose prompt", lambda: page.find_element(By.ID, "purpose-form").is_displayed())
        if page.find_elements(By.CSS_SELECTOR, "#timeline-cards .alert-card"):
            fail("the timeline showed alerts before a purpose was given")
        if page.find_element(By.ID, "timeline-body").is_displayed():
            fail("the timeline body is shown before a purpose was given")
        purpose = "browser test: triage of a complainant_lookup alert"
        page.find_element(By.ID, "purpose-input").send_keys(purpose)
        page.find_element(By.CSS_SELECTOR, "#purpose-form button[type=submit]").click()
        card = wait_for("the timeline's alert card",
                        lambda: page.find_elements(By.CSS_SELECTOR, "#timeline-cards .alert-card"))[0]
        text = card.text.lower()  # as displayed: headings are upper case
        for expected in ("MP4001", "Evidence", "Window", "Score", "Review", "New"):
            if expected.lower() not in text:
                fail(f"the timeline card lacks {expected!r}: {text!r}")
        if not card.find_elements(By.CSS_SELECTOR, ".evidence li"):
            fail("the timeline card lists no evidence")

        # The reviewer's decision: under review, with a reason; shown in the card and the list.
        form = card.find_element(By.CSS_SELECTOR, ".review-form")
        form.find_element(By.CSS_SELECTOR, "input.reason").send_keys("pattern worth a look")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_for("the card under review", lambda: "Under review" in page.find_element(
            By.CSS_SELECTOR, "#timeline-cards .alert-card .review-head").text)
        wait_for("the list row under review", lambda: "Under review" in row_for(page, "MP4001").text)
        wait_for("the outcome form", lambda: page.find_elements(By.CSS_SELECTOR, "#timeline-cards select.outcome"))
        page.save_screenshot(os.path.join(build_dir, "dashboard-timeline.png"))

        # Another client records the outcome: the page shows it live, from the stream.
        status, answer = api(url, reviewer_token, "/api/reviews", {
            "alertId": misconduct_id, "state": "no_case_to_answer",
            "reason": "explained by the case file", "expect": "under_review"})
        if status != 200:
            fail(f"POST /api/reviews answered {status}: {answer}")
        wait_for("the outcome in the card, live", lambda: "No case to answer" in page.find_element(
            By.CSS_SELECTOR, "#timeline-cards .alert-card .review").text)
        wait_for("the outcome in the list, live", lambda: "No case to answer" in row_for(page, "MP4001").text)
        if page.find_elements(By.CSS_SELECTOR, "#timeline-cards .review-form"):
            fail("a final outcome still offers reviewer controls")

        # The timeline view is in the audit, with its purpose.
        def has_timeline_record():
            status, audit = api(url, reviewer_token, "/api/audit?limit=100")
            if status != 200:
                fail(f"GET /api/audit answered {status}: {audit}")
            found = audit.get("records", []) if isinstance(audit, dict) else audit
            return any(r.get("what") == "timeline" and r.get("purpose") == purpose
                       and r.get("officerId") == "MP4001" and r.get("viewer") == "rev.one" for r in found)
        wait_for("the timeline's audit record with its purpose", has_timeline_record)

        problems = severe_entries(page)
        if problems:
            fail(f"the reviewer's console has errors: {problems}")

        # A welfare-only token: a bad token first (refused, asked again), then the welfare one.
        welfare = browser()
        drivers.append(welfare)
        sign_in(welfare, url, "not-a-valid-token-0000000000")
        wait_for("the bad token refused", lambda: "not accepted" in welfare.find_element(By.ID, "login-error").text)
        if welfare.find_element(By.ID, "app").is_displayed():
            fail("the page shows its data with a bad token")
        sign_in(welfare, url, welfare_token)
        wait_for("wel.only signed in", lambda: welfare.find_element(By.ID, "me-name").text == "wel.only")
        wait_for("the welfare alert on the welfare page", lambda: row_for(welfare, "MP7501"))
        # The list at load (recent) and the stream resumed after it are both up: a misconduct
        # alert would have come through either by now.
        wait_for("the welfare page's stream connected",
                 lambda: welfare.find_element(By.ID, "conn").get_attribute("data-state") == "live")
        source = welfare.page_source
        if row_for(welfare, "MP4001") or "MP4001" in source or misconduct_id in source:
            fail("the welfare-only page shows the misconduct alert")
        kinds = [o.get_attribute("value") for o in
                 welfare.find_elements(By.CSS_SELECTOR, "#filter-kind option")]
        if kinds != ["", "WELFARE"]:
            fail(f"the welfare-only kind filter offers {kinds}")
        row_for(welfare, "MP7501").find_element(By.CSS_SELECTOR, "button.officer").click()
        welfare.find_element(By.ID, "purpose-input").send_keys("browser test: welfare follow-up")
        welfare.find_element(By.CSS_SELECTOR, "#purpose-form button[type=submit]").click()
        wait_for("the welfare timeline", lambda: welfare.find_elements(By.CSS_SELECTOR, "#timeline-cards .alert-card"))
        if welfare.find_elements(By.CSS_SELECTOR, ".review-form"):
            fail("reviewer controls shown to a token without the reviewer role")
        problems = severe_entries(welfare, allowed=("401",))
        if problems:
            fail(f"the welfare page's console has errors: {problems}")

        print(f"dashboard_browser_test: ok; screenshots {build_dir}/dashboard.png, "
              f"{build_dir}/dashboard-timeline.png")
    except SystemExit:
        for child in children:
            print(f"--- {' '.join(child.args[1:2])} log ---\n{child.log_text()[-3000:]}", file=sys.stderr)
        raise
    finally:
        for driver in drivers:
            try:
                driver.quit()
            except Exception as e:  # the browser is gone already; nothing more to close
                print(f"dashboard_browser_test: closing the browser: {e}", file=sys.stderr)
        for child in reversed(children):
            child.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
