"""What the browser tests share: the Chromium and driver they need (failing, not skipping, when
either or selenium is missing), bounded waits, a headless browser, console errors, painted canvases.

Imported by dashboard_browser_test.py, demo_browser_test.py and diff_report_test.py from beside
them; run them with /usr/bin/python3, which sees Debian's python3-selenium.
"""
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree by the imports

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_S = 30  # bound on every wait: a guard against a hung page, not a timing assertion


def fail(message):
    print(f"{os.path.basename(sys.argv[0])}: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


try:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service
except ImportError as e:
    fail(f"selenium is not importable by {sys.executable} ({e}); install Debian's python3-selenium "
         "(deploy/install-deps.sh does) and run this test with /usr/bin/python3")

for tool, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
    if not os.access(tool, os.X_OK):
        fail(f"{tool} is missing: install Debian's {package} (deploy/install-deps.sh does)")


def wait_for(what, condition, limit_s=WAIT_S):
    """condition()'s first true value, polled until limit_s; fails the test after that."""
    deadline = time.monotonic() + limit_s
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except WebDriverException as e:  # an element replaced while we looked: look again
            last_error = e
        time.sleep(0.2)
    fail(f"{what}: not seen within {limit_s} s" + (f" (last error: {last_error})" if last_error else ""))


def browser(window="1440,1000"):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={window}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def severe_entries(driver, allowed=()):
    """SEVERE console entries, except those naming one of `allowed`."""
    entries = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    return [e for e in entries if not any(a in e.get("message", "") for a in allowed)]


PAINTED_PIXELS_JS = """
const c = arguments[0];
if (!c || !c.width || !c.height) return 0;
const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
let n = 0;
for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
return n;"""


def painted_pixels(driver, canvas):
    """Number of painted pixels of a canvas element (0: blank)."""
    return driver.execute_script(PAINTED_PIXELS_JS, canvas)
