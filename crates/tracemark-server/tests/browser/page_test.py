#!/usr/bin/env python3
"""Drives Tracemark's web page in headless Chromium against a running server.

Usage: python page_test.py BASE_URL MARKED_TEXT_FILE PLAIN_TEXT_FILE DOWNLOAD_DIR

The Rust integration test starts the server, writes a watermarked text and an unmarked
one, and runs this script. It checks, as a person using the page would:

  a. pasting the marked text and pressing Check shows "AI-generated" first, with the
     report's summary sentences;
  b. "Download report (JSON)" saves the sealed report (its format, its hash, the
     sentence the page showed) and "Download report (HTML)" saves the HTML rendering;
  c. uploading the plain text file shows that no AI origin was found;
  d. checking nothing, or a file over the 4 MiB limit, shows a readable error;
  e. the browser console shows no error (SEVERE entry) during the whole run.

Exits 0 when every check passes, 1 otherwise (with the reason on stderr).
"""

import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
REPORT_FORMAT = "tracemark.evidence-report/v3"
CHECK_TIMEOUT_S = 60  # an attribution runs the whole pipeline: allow a slow machine
DOWNLOAD_TIMEOUT_S = 30
MAX_UPLOAD_BYTES = 4 * 1024 * 1024  # the page refuses larger files before sending


def log(message):
    print(f"page_test: {message}", flush=True)


# ---------------------------------------------------------------------------
# The browser


def start_browser(download_dir):
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                "--window-size=1280,1000"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "download.default_directory": download_dir,
        "download.prompt_for_download": False,
        "download.directory_upgrade": True,
    })
    # Keep every console message, so that errors can be asserted on at the end.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    # Headless Chromium may ignore the download preference; this makes it explicit.
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": download_dir})
    return driver


class Console:
    """Collects the browser console across the run (each get_log call drains it)."""

    def __init__(self, driver):
        self.driver = driver
        self.entries = []

    def collect(self):
        self.entries.extend(self.driver.get_log("browser"))

    def severe(self):
        # Chromium asks for /favicon.ico on its own; the page has no icon, and a server
        # that answers 404 there is not an error of the page.
        return [e for e in self.entries
                if e.get("level") == "SEVERE" and "/favicon.ico " not in e.get("message", "")]


# ---------------------------------------------------------------------------
# Page helpers (the ids are the page's contract with this test)


def by_id(driver, element_id):
    return driver.find_element(By.ID, element_id)


def set_text(driver, text):
    """Puts `text` in the textarea the way a paste does: all at once, then an input event.

    send_keys would type it key by key, which is slow for a long text and cannot type
    characters outside the Basic Multilingual Plane; the watermark test needs the text
    byte for byte.
    """
    driver.execute_script(
        "const t = arguments[0]; t.value = arguments[1];"
        "t.dispatchEvent(new Event('input', {bubbles: true}));",
        by_id(driver, "text"), text)


def finished_checks(driver):
    # #result's data-run counts finished checks (success or error).
    return int(by_id(driver, "result").get_attribute("data-run") or "0")


def check(driver):
    """Presses Check and waits until the page has finished; returns 'done' or 'error'."""
    before = finished_checks(driver)
    by_id(driver, "check").click()
    # While a request runs the button must be disabled and say so. Read both at once, so
    # that a check finishing in between cannot make the assertion flaky.
    state, disabled, label = driver.execute_script(
        "const b = document.getElementById('check');"
        "return [document.getElementById('result').dataset.state, b.disabled, b.textContent];")
    if state == "checking":
        assert disabled and "Checking" in label, \
            f"while checking, the button should be disabled and read 'Checking…' (got {label!r})"
    try:
        WebDriverWait(driver, CHECK_TIMEOUT_S, poll_frequency=0.2).until(
            lambda d: finished_checks(d) > before)
    except TimeoutException:
        raise AssertionError(f"the page did not finish the check within {CHECK_TIMEOUT_S} s")
    return by_id(driver, "result").get_attribute("data-state")


def error_text(driver):
    box = by_id(driver, "error")
    return box.text.strip() if box.is_displayed() else ""


def expect_report(driver, state):
    """Asserts that the check ended with a report, not an error."""
    assert state == "done", f"expected a report, but the page shows an error: {error_text(driver)!r}"
    assert by_id(driver, "report").is_displayed(), "the report is not shown"
    headline = by_id(driver, "headline").text.strip()
    summary = [li.text.strip() for li in driver.find_elements(By.CSS_SELECTOR, "#summary li")]
    assert summary and summary[0], "the report shows no summary sentence"
    # The verdict is built from report fields: a missing one would print as undefined/NaN.
    verdict_text = driver.find_element(By.CSS_SELECTOR, "#report .verdict").text
    for bad in ("undefined", "NaN", "[object Object]"):
        assert bad not in verdict_text, f"the verdict shows {bad!r}: a field was not read right"
    return headline, summary


def expect_error(driver, state, *words):
    """Asserts that the check ended with a readable error message mentioning `words`."""
    assert state == "error", f"expected an error message, got state {state!r}"
    message = error_text(driver)
    assert message, "no error message is shown"
    for bad in ("undefined", "null", "[object", "TypeError"):
        assert bad not in message, f"the error message is not readable: {message!r}"
    for word in words:
        assert word.lower() in message.lower(), f"the error message should mention {word!r}: {message!r}"
    assert not by_id(driver, "report").is_displayed(), "a stale report is shown under the error"
    return message


def wait_for_download(download_dir, suffix, known):
    """Waits for a finished new file ending in `suffix`; returns its path."""
    deadline = time.monotonic() + DOWNLOAD_TIMEOUT_S
    while time.monotonic() < deadline:
        for path in Path(download_dir).iterdir():
            # Chromium writes to NAME.crdownload and renames it when done.
            if path.name.endswith(suffix) and path.name not in known:
                return path
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} file appeared in {download_dir} within {DOWNLOAD_TIMEOUT_S} s")


def download(driver, button_id, download_dir, suffix):
    known = {p.name for p in Path(download_dir).iterdir()}
    by_id(driver, button_id).click()
    return wait_for_download(download_dir, suffix, known)


# ---------------------------------------------------------------------------
# The scenarios


def check_marked_text(driver, marked_text):
    log("a. paste the marked text and check it")
    set_text(driver, marked_text)
    headline, summary = expect_report(driver, check(driver))
    assert "AI-generated" in headline, f"the headline should say AI-generated, got {headline!r}"
    log(f"   headline: {headline}")
    log(f"   first summary sentence: {summary[0]}")
    return summary[0]


def check_downloads(driver, download_dir, first_sentence):
    log("b. download the report as JSON and HTML")
    json_path = download(driver, "download-json", download_dir, ".json")
    report = json.loads(json_path.read_text(encoding="utf-8"))
    assert report.get("format") == REPORT_FORMAT, \
        f"the JSON report's format is {report.get('format')!r}, expected {REPORT_FORMAT!r}"
    report_hash = (report.get("seal") or {}).get("report_hash")
    assert isinstance(report_hash, str) and re.fullmatch(r"[0-9a-f]{64}", report_hash), \
        f"the JSON report has no seal.report_hash (got {report_hash!r})"
    expected_name = f"report-{report_hash[:12]}.json"
    assert json_path.name == expected_name, f"the JSON file is {json_path.name}, expected {expected_name}"
    verdict = report.get("verdict") or {}
    assert verdict.get("ai"), "the downloaded report of the marked text has no verdict.ai"
    # The page must show the report's own first sentence, not a paraphrase.
    assert verdict.get("summary") and verdict["summary"][0] == first_sentence, \
        f"the page's first summary sentence {first_sentence!r} is not the report's " \
        f"{(verdict.get('summary') or [None])[0]!r}"
    log(f"   {json_path.name}: format {report['format']}, report hash {report_hash}")

    html_path = download(driver, "download-html", download_dir, ".html")
    assert html_path.name == f"report-{report_hash[:12]}.html", f"the HTML file is {html_path.name}"
    html = html_path.read_text(encoding="utf-8")
    assert "<html" in html.lower(), f"{html_path.name} is not an HTML page"
    log(f"   {html_path.name}: {len(html)} characters of HTML")


def check_plain_file(driver, plain_file):
    log("c. upload the plain text file and check it")
    by_id(driver, "file").send_keys(str(Path(plain_file).resolve()))
    chosen = by_id(driver, "file-chosen")
    assert chosen.is_displayed() and Path(plain_file).name in chosen.text, \
        f"the page does not say which file it will check (shows {chosen.text!r})"
    headline, _ = expect_report(driver, check(driver))
    assert "No AI origin was found" in headline, \
        f"the headline should say no AI origin was found, got {headline!r}"
    log(f"   headline: {headline}")


def check_refusals(driver):
    log("d. check nothing, then a file over 4 MiB: both must be refused readably")
    by_id(driver, "file-clear").click()  # drop the file from step c
    set_text(driver, "")
    message = expect_error(driver, check(driver))
    log(f"   empty: {message!r}")

    with tempfile.TemporaryDirectory() as scratch:
        big = Path(scratch) / "too-big.bin"
        big.write_bytes(b"\0" * (MAX_UPLOAD_BYTES + 1))
        by_id(driver, "file").send_keys(str(big))
        message = expect_error(driver, check(driver), "too large")
        by_id(driver, "file-clear").click()
    log(f"   too large: {message!r}")


def check_console(console):
    log("e. the browser console shows no error")
    console.collect()
    severe = console.severe()
    assert not severe, "the browser console has errors:\n" + "\n".join(
        f"  {e.get('source', '?')}: {e.get('message')}" for e in severe)
    log(f"   {len(console.entries)} console messages, none severe")


# ---------------------------------------------------------------------------


def main(argv):
    if len(argv) != 5:
        raise SystemExit("usage: page_test.py BASE_URL MARKED_TEXT_FILE PLAIN_TEXT_FILE DOWNLOAD_DIR")
    base_url, marked_file, plain_file, download_dir = argv[1:]
    download_dir = os.path.abspath(download_dir)  # Chromium needs an absolute path
    os.makedirs(download_dir, exist_ok=True)
    # newline="" keeps the file's bytes: the watermark is detected on the exact text.
    with open(marked_file, encoding="utf-8", newline="") as f:
        marked_text = f.read()

    driver = start_browser(download_dir)
    console = Console(driver)
    try:
        log(f"open {base_url}")
        driver.get(base_url)
        heading = driver.find_element(By.TAG_NAME, "h1").text
        assert "Tracemark" in heading, f"the page has no Tracemark header (h1 is {heading!r})"
        first_sentence = check_marked_text(driver, marked_text)
        console.collect()
        check_downloads(driver, download_dir, first_sentence)
        console.collect()
        check_plain_file(driver, plain_file)
        console.collect()
        check_refusals(driver)
        check_console(console)
    except (AssertionError, WebDriverException) as failure:
        report_failure(driver, console, download_dir, failure)
        return 1
    finally:
        driver.quit()
    log("PASS: every check of the web page passed")
    return 0


def report_failure(driver, console, download_dir, failure):
    """Says what failed and keeps what helps to see why (console, screenshot)."""
    print(f"page_test: FAIL: {failure}", file=sys.stderr, flush=True)
    try:
        console.collect()
        for entry in console.entries:
            print(f"page_test: console {entry.get('level')}: {entry.get('message')}", file=sys.stderr)
        shot = Path(download_dir) / "page_test-failure.png"
        driver.save_screenshot(str(shot))
        print(f"page_test: screenshot of the page at the failure: {shot}", file=sys.stderr)
    except WebDriverException as e:
        print(f"page_test: (could not collect diagnostics: {e.msg})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
