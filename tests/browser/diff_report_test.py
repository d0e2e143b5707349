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

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree by the import below

from browser_common import browser, fail, painted_pixels, severe_entries, wait_for  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


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



def check_charts(driver, figures):
    with_alerts = {r for r, d in figures["rules"].items() if d["a"] + d["b"] > 0}
    canvases = wait_for("a canvas per rule with alerts",
                        lambda: (lambda c: c if len(c) == len(with_alerts) else None)(
                            driver.find_elements(By.CSS_SELECTOR, "#charts canvas")))
    drawn = {c.get_attribute("data-rule") for c in canvases}
    if drawn != with_alerts:
        fail(f"charts for {sorted(drawn)}, rules with alerts {sorted(with_alerts)}")
    for canvas in canvases:
        if painted_pixels(driver, canvas) == 0:
            fail(f"the chart of {canvas.get_attribute('data-rule')} is blank")


def main():
    if len(sys.argv) != 3:
        fail("usage: diff_report_test.py VIGIL_BINARY SOURCE_DIR")
    vigil, source = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="vigil-diff-report-") as work:
        report, rules_b, figures = run_diff(vigil, source, work)
        driver = browser(window="1400,1800")
        try:
            driver.get("file://" + os.path.join(report, "index.html"))
            check_table(driver, figures)
            check_charts(driver, figures)
            heading = driver.find_element(By.TAG_NAME, "h1").text
            if rules_b not in heading or driver.find_elements(By.CSS_SELECTOR, "h1 b"):
                fail(f"the rules file name is not shown as plain text: {heading!r}")
            driver.save_screenshot(os.path.join(os.path.dirname(os.path.abspath(vigil)), "diff-report.png"))
            severe = severe_entries(driver)
            if severe:
                fail(f"console errors: {severe}")
        finally:
            driver.quit()
    print("diff_report_test: ok")


if __name__ == "__main__":
    main()
