#!/usr/bin/python3
"""Issue 12's done criterion: a browser shows alerts arriving live from a running demo.

usage: demo_browser_test.py VIGIL_BINARY SOURCE_DIR   (ctest: demo_browser_test)

Starts headless Chromium first (so that the page can be live before the demo's first alert),
then `vigil demo --officers 2000 --dashboard 127.0.0.1:0 --keep-open`, reads the dashboard URL and
the demo token it prints, signs in with them, and checks, each within a bounded wait:
  - the page is signed in and streaming while the demo runs, before its first alert is published
    (on a loaded machine it may be later: then at least one row must still come over the stream),
    and the rows arrive over the stream (the page marks them `fresh`), not from the list it loads;
  - once the demo has printed its planted-vs-found table, the page lists exactly as many alerts
    as the demo says were published, and they are the alerts it printed (rule and summary);
  - the browser console has no SEVERE entry;
  - SIGINT ends the kept-open demo with exit status 0.
Screenshot: demo.png beside the vigil binary (the build dir).
Shares its browser helpers with dashboard_browser_test.py (imported from beside this file).
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree by the import below
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard_browser_test as common  # noqa: E402  (checks selenium and chromium are there)
from selenium.webdriver.common.by import By  # noqa: E402

WAIT_S = common.WAIT_S       # bound on every wait in the page: a guard, not a timing assertion
DEMO_LIMIT_S = 150           # bound on the demo's whole run (about 15 s on the reference machine)
DASHBOARD_LINE = re.compile(r"^dashboard at (http://[0-9.:]+)\s+\(token: ([0-9a-f]+),")
PUBLISHED_LINE = re.compile(r"^\s*alerts published\s+([0-9,]+), shown ([0-9,]+)")
KEPT_OPEN_LINE = "keeping the broker"
FINISHED_LINE = "Vigil demo finished"
MAX_ROWS = 500  # the page's live list keeps this many (MAX_ROWS in engine/http/web/app.js)


def fail(message):
    print(f"demo_browser_test: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


common.fail = fail  # the shared helpers report through their module's fail(): name this test


class Demo:
    """`vigil demo` with its stdout read line by line on a thread, so that the test can ask what it
    had printed by a given moment; stderr goes to a log file."""

    def __init__(self, args, log_path):
        self.args = args
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.lines = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def printed(self, predicate):
        """The first line printed so far that satisfies `predicate`, or None."""
        with self.changed:
            return next((line for line in self.lines if predicate(line)), None)

    def wait_line(self, what, predicate, limit_s):
        deadline = time.monotonic() + limit_s
        with self.changed:
            while True:
                line = next((line for line in self.lines if predicate(line)), None)
                if line is not None:
                    return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    fail(f"the demo did not print {what} within {limit_s} s "
                         f"(exit status {self.proc.poll()}); its output:\n" + self.output())
                self.changed.wait(min(left, 1.0))

    def output(self):
        with self.changed:
            return "\n".join(self.lines[-60:])

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def page_rows(driver):
    """(rule, summary, fresh) of every row in the live list."""
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('#alert-rows tr')).map(r => [
            r.querySelector('.col-rule').title, r.querySelector('.col-summary').textContent,
            r.classList.contains('fresh')]);""")


def printed_alerts(demo):
    """(rule, summary) of every ALERT line the demo printed: `ALERT SEVERITY RULE SUMMARY`."""
    with demo.changed:
        lines = [line for line in demo.lines if line.startswith("ALERT ")]
    return sorted(tuple(line.split(None, 3)[2:4]) for line in lines)


def main():
    if len(sys.argv) != 3:
        fail("usage: demo_browser_test.py VIGIL_BINARY SOURCE_DIR")
    vigil = os.path.abspath(sys.argv[1])
    build_dir = os.path.dirname(vigil)
    work = tempfile.mkdtemp(prefix="vigil-demo-browser-test-")
    demo, page = None, None
    try:
        page = common.browser()
        demo = Demo([vigil, "demo", "--officers", "2000", "--dashboard", "127.0.0.1:0", "--keep-open"],
                    os.path.join(work, "demo.err"))
        line = demo.wait_line("the dashboard's address and token", DASHBOARD_LINE.match, WAIT_S)
        url, token = DASHBOARD_LINE.match(line).groups()

        common.sign_in(page, url, token)
        common.wait_for("the demo token signed in", lambda: page.find_element(By.ID, "me-name").text == "demo")
        common.wait_for("the stream connected",
                        lambda: page.find_element(By.ID, "conn").get_attribute("data-state") == "live")

        # Live: the page was signed in and streaming before the demo published its first alert
        # (the page's state is read first, the demo's output after, so no ALERT line yet means
        # none was published before the page was live); then every alert reaches it over the
        # stream while the demo runs. The demo publishes in bursts at checkpoints, close to its
        # end, so the rows' arrival is not raced against the "finished" line.
        live_before_first_alert = not demo.printed(lambda text: text.startswith("ALERT "))
        if demo.printed(lambda text: text.startswith(FINISHED_LINE)):
            fail("the demo finished before the page was signed in and streaming")
        common.wait_for("an alert row arriving over the stream (marked fresh by the page)",
                        lambda: any(fresh for _, _, fresh in page_rows(page)), DEMO_LIMIT_S)
        # The table: the page then lists exactly the alerts the demo published.
        demo.wait_line("its planted-vs-found table", lambda text: text.startswith(KEPT_OPEN_LINE), DEMO_LIMIT_S)
        published_line = demo.printed(PUBLISHED_LINE.match)
        if not published_line:
            fail("the demo printed no 'alerts published' line; its output:\n" + demo.output())
        published, shown = (int(n.replace(",", "")) for n in PUBLISHED_LINE.match(published_line).groups())
        if published == 0 or published > MAX_ROWS:
            fail(f"the demo published {published} alerts: this test needs 1 to {MAX_ROWS}")
        if shown != published:
            fail(f"the demo itself showed {shown} of {published} published alerts")
        common.wait_for(f"the page listing {published} alerts",
                        lambda: len(page_rows(page)) == published
                        and page.find_element(By.ID, "alert-count").text == str(published))
        rows = page_rows(page)
        if live_before_first_alert and not all(fresh for _, _, fresh in rows):
            fail("the page was streaming before the first alert, yet some rows did not come over "
                 "the stream")
        on_page = sorted((rule, summary) for rule, summary, _ in rows)
        if on_page != printed_alerts(demo):
            fail(f"the page's alerts differ from those the demo printed:\npage: {on_page}\n"
                 f"demo: {printed_alerts(demo)}")
        page.save_screenshot(os.path.join(build_dir, "demo.png"))

        problems = common.severe_entries(page)
        if problems:
            fail(f"the page's console has errors: {problems}")

        demo.proc.send_signal(signal.SIGINT)
        try:
            status = demo.proc.wait(30)
        except subprocess.TimeoutExpired:
            fail("the kept-open demo did not stop within 30 s of SIGINT")
        if status != 0:
            fail(f"the demo exited {status} after SIGINT; its log:\n{demo.log_text()[-3000:]}")
        print(f"demo_browser_test: ok; {published} alerts arrived live on the page"
              f"{'' if live_before_first_alert else ' (some before it was streaming)'}; "
              f"screenshot {build_dir}/demo.png")
    except SystemExit:
        if demo:
            print(f"--- demo output ---\n{demo.output()}\n--- demo log ---\n{demo.log_text()[-3000:]}",
                  file=sys.stderr)
        raise
    finally:
        if page:
            try:
                page.quit()
            except Exception as e:  # the browser is gone already; nothing more to close
                print(f"demo_browser_test: closing the browser: {e}", file=sys.stderr)
        if demo:
            demo.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
