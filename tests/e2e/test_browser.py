"""The web pages in a real browser: Debian's chromium, headless, driven by selenium.

Signs in with the keyboard, searches, opens a device and its chart, follows a
link from the fleet page, prints; checks that every form field has a label,
that text meets WCAG AA contrast, and that the keyboard reaches everything.
Screenshots and the printed PDF are kept in ``var/test-artefacts/browser/``
(``KITLIFE_TEST_ARTEFACTS`` to move them) for a person, or CI, to look at.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from kitlife.collector.runtime.settings import Settings
from tests.collector.api.conftest import Live, running
from tests.collector.api.webutil import fill

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("KITLIFE_TEST_ARTEFACTS", ROOT / "var" / "test-artefacts"))
ARTEFACTS = ARTEFACTS / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

# Contrast of each visible text element against the first opaque background behind it.
CONTRAST_JS = """
function lum(c) {
  const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
    v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function bg(el) {
  for (; el; el = el.parentElement) {
    const c = getComputedStyle(el).backgroundColor;
    const a = c.match(/[\\d.]+/g);
    if (a && (a.length < 4 || Number(a[3]) > 0.5)) return c;
  }
  return 'rgb(255, 255, 255)';
}
const bad = [];
for (const el of document.querySelectorAll('body *')) {
  if (el.closest('svg')) continue;
  const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
  const r = el.getBoundingClientRect();
  if (!own || r.width === 0 || getComputedStyle(el).visibility === 'hidden') continue;
  const a = lum(getComputedStyle(el).color), b = lum(bg(el));
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  const text = el.textContent.trim().slice(0, 40);
  if (ratio < 4.5) bad.push(el.tagName + ' "' + text + '" ' + ratio.toFixed(2));
}
return bad;
"""
UNLABELLED_JS = """
return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.id && document.querySelector('label[for="' + el.id + '"]'))
                && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.outerHTML);
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'collector.sqlite3'}"
    with running(Settings(db_url=url, prune_interval_s=0)) as live:
        fill(live.store, devices=8, months=10)
        yield live


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.fail("chromium and chromedriver are missing: run scripts/system-deps")
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: WebDriver, name: str) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(int(height), 800), 6000))
    driver.save_screenshot(str(ARTEFACTS / f"{name}.png"))
    driver.set_window_size(1280, 1600)


def check_page(driver: WebDriver) -> None:
    """Labels, contrast and no script on whatever page is open."""
    assert driver.execute_script(UNLABELLED_JS) == []
    low: list[Any] = driver.execute_script(CONTRAST_JS)
    assert low == [], f"text below 4.5:1 contrast on {driver.current_url}: {low}"
    assert driver.find_elements(By.TAG_NAME, "script") == []


def focused(driver: WebDriver) -> Any:
    return driver.switch_to.active_element


def test_service_desk_journey(site: Live, browser: WebDriver) -> None:
    device = site.store.list_devices()[0]
    browser.delete_all_cookies()
    browser.get(site.url + "/web/search")
    assert "/web/sign-in" in browser.current_url
    check_page(browser)
    shot(browser, "1-sign-in")
    # Sign in by keyboard: the token field has focus, Enter submits.
    assert focused(browser).get_attribute("id") == "token"
    focused(browser).send_keys(site.servicedesk, Keys.ENTER)
    assert browser.current_url.endswith("/web/search")
    cookie = browser.get_cookie("kitlife_session")
    assert cookie and cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"

    # Keyboard: the first Tab reaches the skip link, which jumps to the content.
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    assert focused(browser).text == "Skip to content"
    focused(browser).send_keys(Keys.ENTER)
    assert browser.current_url.endswith("#main")
    tabs = []
    for _ in range(8):
        focused(browser).send_keys(Keys.TAB)
        tabs.append(focused(browser).get_attribute("id") or focused(browser).text)
    assert "q" in tabs  # the search box is reachable by Tab
    search = browser.find_element(By.ID, "q")
    search.send_keys(device["hostname"], Keys.ENTER)
    check_page(browser)
    shot(browser, "2-search")
    link = browser.find_element(By.LINK_TEXT, device["hostname"])
    link.click()
    assert device["device_uid"] in browser.current_url

    # The device page: verdict first, then charts with trend and threshold.
    check_page(browser)
    headings = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
    assert headings[1] == "Identity" and "Health of each part" in headings
    chart = browser.find_element(By.CSS_SELECTOR, "article.panel svg.chart")
    assert chart.size["width"] > 300 and chart.size["height"] > 100
    assert chart.find_elements(By.CSS_SELECTOR, "polyline.line")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart line.threshold")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart line.trend")
    shot(browser, "3-device")

    # Print: navigation and forms are hidden, and the page prints to a PDF.
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not browser.find_element(By.CSS_SELECTOR, "header nav").is_displayed()
    assert chart.is_displayed()
    shot(browser, "4-device-print")
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    pdf = base64.b64decode(browser.print_page())
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    (ARTEFACTS / "device.pdf").write_bytes(pdf)

    # The fleet page, and a link from it to a device.
    browser.find_element(By.LINK_TEXT, "Fleet").click()
    check_page(browser)
    assert browser.find_element(By.ID, "model-h").text == "Decisions by model"
    shot(browser, "5-fleet")
    links = browser.find_elements(By.CSS_SELECTOR, "section a[href^='/web/devices/']")
    if links:
        links[0].click()
        assert browser.find_element(By.ID, "verdict-h").is_displayed()

    # An unknown device: a 404 page with a search box.
    browser.get(site.url + "/web/devices/no-such-laptop")
    check_page(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == "No such device"
    assert browser.find_element(By.ID, "q").get_attribute("value") == "no-such-laptop"
    shot(browser, "6-not-found")

    # The service desk cannot open admin pages, and signing out ends the session.
    browser.get(site.url + "/web/admin/tokens")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not allowed"
    browser.find_element(By.CSS_SELECTOR, "form.signout button").click()
    # A form post navigates after click() returns: wait for it (seen to race under load).
    WebDriverWait(browser, 10).until(expected_conditions.url_contains("/web/sign-in"))
    browser.get(site.url + "/web/search")
    assert "/web/sign-in" in browser.current_url
