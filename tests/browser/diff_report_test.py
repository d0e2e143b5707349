#!/usr/bin/python3
"""`vigil diff --report` in a real headless Chromium.

usage: diff_report_test.py VIGIL_BINARY SOURCE_DIR   (ctest: diff_report_test)

Runs `vigil diff` on the sample force (A = defaults, B = minLookups 2 and minCount 100, also a
rules file name with HTML in it), opens DIR/index.html from a file:// URL and checks, each within a
bounded wait:
  - the per-rule table has a row for each of the nine rules, with the numbers of --json;
  - every rule with alerts has a canvas and each canvas was painted (pixels not blank);
  - the rules file name is shown as text, not markup;
  - the browser console has no SEVERE entry.
Screenshot: diff-report.png beside the vigil binary (the build dir).
Needs Debian's chromium, chromium-driver and python3-selenium (deploy/install-deps.sh).
"""
import json
import os
import subprocess
import sys
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_S = 30  # bound on every wait: a guard against a hung page, not a timing assertion


def fail(message):
    print(f"diff_report_test: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError as e:
    fail(f"selenium is not importable by {sys.executable} ({e}); install Debian's python3-selenium "
         "and run this test with /usr/bin/python3")

for tool, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
    if not os.access(tool, os.X_OK):
        fail(f"{tool} is missing: install Debian's {package} (deploy/install-deps.sh does)")


def run_diff(vigil, source, work):
    rules_b = os.path.join(work, "<b>&rules.json")  # a name that would be markup if not escaped
    with open(rules_b, "w") as f:
        json.dump({"repeatedSubjectLookup": {"minLookups": 2}, "accessVolumeSpike": {"minCount": 100}}, f)
    report = os.path.join(work, "report")
    figures = os.path.join(work, "diff.json")
    events = os.path.join(source, "tests/scenarios/shared/sample-force.events.ndjson")
    done = subprocess.run([vigil, "diff", "--quiet", "--rules", "", "--rules", rules_b, "--input", events,
                           "--json", figures, "--report", report],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        fail(f"vigil diff exited {done.returncode}: {done.stderr}")
    with open(figures) as f:
        return report, rules_b, json.load(f)


def wait_for(description, check):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)  # polling for a condition, bounded by WAIT_S
    fail(f"waited {WAIT_S} s for {description}")


def open_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1800"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def check_table(driver, figures):
    rows = driver.find_elements(By.CSS_SELECTOR, "#rules tbody tr")
    got = {}
    for row in rows:
        cells = [c.text for c in row.find_elements(By.TAG_NAME, "td")]
        got[cells[0]] = [int(x) for x in cells[1:]]
    if set(got) != set(figures["rules"]):
        fail(f"table rules {sorted(got)} are not the --json rules {sorted(figures['rules'])}")
    for rule, d in figures["rules"].items():
        want = [d["a"], d["b"], d["matched"], d["onlyA"], d["onlyB"], d["officers"]]
        if got[rule] != want:
            fail(f"table row of {rule} is {got[rule]}, --json says {want}")
    only_b = driver.find_elements(By.CSS_SELECTOR, "#only-b tbody tr")
    if len(only_b) != len(figures["onlyB"]):
        fail(f"{len(only_b)} only-B rows, --json lists {len(figures['onlyB'])}")


PAINTED_JS = """
const canvas = arguments[0];
const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let painted = 0;
for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted++;
return painted;
"""


def check_charts(driver, figures):
    with_alerts = {r for r, d in figures["rules"].items() if d["a"] + d["b"] > 0}
    canvases = wait_for("a canvas per rule with alerts",
                        lambda: (lambda c: c if len(c) == len(with_alerts) else None)(
                            driver.find_elements(By.CSS_SELECTOR, "#charts canvas")))
    drawn = {c.get_attribute("data-rule") for c in canvases}
    if drawn != with_alerts:
        fail(f"charts for {sorted(drawn)}, rules with alerts {sorted(with_alerts)}")
    for canvas in canvases:
        if driver.execute_script(PAINTED_JS, canvas) == 0:
            fail(f"the chart of {canvas.get_attribute('data-rule')} is blank")


def main():
    if len(sys.argv) != 3:
        fail("usage: diff_report_test.py VIGIL_BINARY SOURCE_DIR")
    vigil, source = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="vigil-diff-report-") as work:
        report, rules_b, figures = run_diff(vigil, source, work)
        driver = open_browser()
        try:
            driver.get("file://" + os.path.join(report, "index.html"))
            check_table(driver, figures)
            check_charts(driver, figures)
            heading = driver.find_element(By.TAG_NAME, "h1").text
            if rules_b not in heading or driver.find_elements(By.CSS_SELECTOR, "h1 b"):
                fail(f"the rules file name is not shown as plain text: {heading!r}")
            driver.save_screenshot(os.path.join(os.path.dirname(os.path.abspath(vigil)), "diff-report.png"))
            severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
            if severe:
                fail(f"console errors: {severe}")
        finally:
            driver.quit()
    print("diff_report_test: ok")


if __name__ == "__main__":
    main()
