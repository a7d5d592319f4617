"""The HTML report, opened in a real browser (headless Chromium) and checked as a reader would.

The report is built from synthetic results (``tests/unit/synthetic_results.py``), so no model
runs. Chromium and chromedriver must be installed (Debian: ``apt-get install chromium
chromium-driver``); Selenium Manager cannot download a browser offline, so both are found on
disk (``CHROMIUM_BINARY`` / ``CHROMEDRIVER`` override the paths). A missing browser FAILS the
test, never skips it: CI installs one.

A full-page screenshot is saved as ``report.png`` in the test's temporary folder, or in
``$NHSIM_SCREENSHOT_DIR`` when that is set, for a human to look at.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from sim.analysis.compare import write_comparison
from sim.paths import REPO_DIR
from sim.plots import labels
from sim.report import build as report

VIEWPORT = (1280, 900)  # CSS pixels: a laptop, or a projector at 1280x...
CAVEAT = "assumptions, not findings"


def _synthetic() -> ModuleType:
    """``tests/unit/synthetic_results.py``, loaded by path (it is not a package)."""
    path = REPO_DIR / "tests" / "unit" / "synthetic_results.py"
    spec = importlib.util.spec_from_file_location("synthetic_results_for_browser", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


synthetic = _synthetic()


def _find(env: str, *candidates: str) -> str | None:
    """``$env`` when set (and nothing else), else the first candidate path or name on PATH."""
    if os.environ.get(env):
        candidates = (os.environ[env],)
    for name in candidates:
        path = name if os.path.isabs(name) else shutil.which(name)
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def browser_paths() -> tuple[str | None, str | None]:
    """Paths of Chromium and chromedriver, or ``None`` for each one not found."""
    browser = _find("CHROMIUM_BINARY", "/usr/bin/chromium", "chromium", "chromium-browser")
    chromedriver = _find("CHROMEDRIVER", "/usr/bin/chromedriver", "chromedriver")
    return browser, chromedriver


MISSING = (
    "Chromium and chromedriver are needed for the browser tests but were not found "
    "(chromium: {}, chromedriver: {}). Install them with\n"
    "    sudo apt-get install -y chromium chromium-driver\n"
    "or set CHROMIUM_BINARY and CHROMEDRIVER to their paths."
)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep of the four arrangements, compared and reported as the CLI would."""
    root = tmp_path_factory.mktemp("sweep")
    for i, name in enumerate(synthetic.SCENARIOS):
        synthetic.write_run(root / str(i), name)
    write_comparison(root)
    return report.build_report(root)


@pytest.fixture(scope="module")
def driver() -> Iterator[WebDriver]:
    """Headless Chromium at a 1280-pixel-wide viewport, logging the JavaScript console."""
    browser, chromedriver = browser_paths()
    if browser is None or chromedriver is None:
        pytest.fail(MISSING.format(browser, chromedriver), pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI containers run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={VIEWPORT[0]},{VIEWPORT[1]}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        drv = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    except WebDriverException as exc:
        pytest.fail(f"Chromium ({browser}) did not start via {chromedriver}: {exc.msg}")
    # The window size includes no browser chrome in headless mode, but make sure the page
    # itself is exactly 1280 CSS pixels wide.
    drv.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False},
    )
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def page(driver: WebDriver, report_file: Path) -> WebDriver:
    """The report loaded (every image decoded) in the browser."""
    driver.get(report_file.as_uri())
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)))"
        ".then(() => done(true));"
    )
    return driver


def test_browser_is_installed() -> None:
    """Chromium and chromedriver are on disk (a missing browser fails, it is never skipped)."""
    browser, chromedriver = browser_paths()
    assert browser and chromedriver, MISSING.format(browser, chromedriver)


def test_page_has_a_title(page: WebDriver) -> None:
    """The tab and the page both say what this is."""
    assert page.title.startswith("neighbourhood-sim report"), page.title
    h1 = page.find_element(By.TAG_NAME, "h1")
    assert h1.is_displayed() and h1.text == page.title


def test_every_image_loaded(page: WebDriver, report_file: Path) -> None:
    """Every embedded figure decoded: complete, with a natural width, and shown on screen."""
    images = page.execute_script(
        "return Array.from(document.images).map(i => ({"
        "  figure: (i.closest('figure') || {}).id || '?',"
        "  complete: i.complete, natural: i.naturalWidth,"
        "  shown: i.getBoundingClientRect().width}))"
    )
    figures_on_disk = sorted(p.stem for p in (report_file.parent / "figures").glob("*.png"))
    assert len(images) == len(figures_on_disk) >= 8, (images, figures_on_disk)
    broken = [i for i in images if not i["complete"] or i["natural"] <= 0 or i["shown"] <= 0]
    assert not broken, f"images that did not load: {broken}"


def test_no_javascript_console_errors(page: WebDriver) -> None:
    """The browser logged no errors while loading the page (e.g. a malformed data: URI)."""
    errors = [e for e in page.get_log("browser") if e.get("level") == "SEVERE"]
    assert not errors, errors


def test_headline_table_lists_every_scenario(page: WebDriver) -> None:
    """The headline comparison is a visible table with one column per arrangement."""
    table = page.find_element(
        By.XPATH, "//h2[normalize-space()='Headline comparison']/following-sibling::table[1]"
    )
    assert table.is_displayed()
    headers = [th.text.strip() for th in table.find_elements(By.CSS_SELECTOR, "tr:first-child th")]
    expected = [labels.scenario_label(n) for n in synthetic.SCENARIOS]
    assert headers[1:] == expected, headers
    rows = table.find_elements(By.CSS_SELECTOR, "tr")[1:]
    assert len(rows) >= 5, "too few headline measures"
    assert "difference" in table.text and "95% CI" in table.text


def test_assumption_caveat_is_visible_without_scrolling(page: WebDriver) -> None:
    """The 'assumptions, not findings' caveat is on screen when the page opens."""
    page.execute_script("window.scrollTo(0, 0)")
    caveat = page.find_element(
        By.XPATH, f"//p[contains(translate(., 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', "
        f"'abcdefghijklmnopqrstuvwxyz'), '{CAVEAT}')]",
    )  # fmt: skip
    assert caveat.is_displayed()
    box = page.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "const s = getComputedStyle(arguments[0]);"
        "return {top: r.top, bottom: r.bottom, height: r.height, size: parseFloat(s.fontSize),"
        " colour: s.color, hidden: s.visibility === 'hidden' || s.opacity === '0'};",
        caveat,
    )
    assert not box["hidden"] and box["height"] > 0, box
    assert box["bottom"] <= VIEWPORT[1], f"caveat is below the fold: {box}"
    assert box["size"] >= 14, f"caveat text is too small: {box}"


def test_nothing_overflows_horizontally(page: WebDriver) -> None:
    """At 1280 px nothing sticks out of the window: no sideways scrolling, no cut-off columns.

    Content inside a box that scrolls or clips sideways (``overflow-x`` other than
    ``visible``) does not count: the box, not the page, handles it.
    """
    width = page.execute_script("return document.documentElement.clientWidth")
    assert width == VIEWPORT[0], width
    scroll = page.execute_script("return document.documentElement.scrollWidth")
    offenders = page.execute_script(
        """
        const w = document.documentElement.clientWidth;
        const clipped = e => {
          for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
            if (getComputedStyle(p).overflowX !== 'visible') return true;
          }
          return false;
        };
        return Array.from(document.querySelectorAll('body *'))
          .filter(e => e.getBoundingClientRect().right > w + 0.5 && !clipped(e))
          .slice(0, 8)
          .map(e => `${e.tagName}${e.id ? '#' + e.id : ''} right=`
                    + `${Math.round(e.getBoundingClientRect().right)}px: `
                    + (e.textContent || '').trim().slice(0, 50));
        """
    )
    assert scroll <= width and not offenders, (
        f"page is {scroll} px wide in a {width} px window; sticking out: {offenders}"
    )


def test_full_page_screenshot(page: WebDriver, tmp_path: Path) -> None:
    """A full-page screenshot is written (for a human to look at) and is not blank."""
    folder = Path(os.environ.get("NHSIM_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    height = int(page.execute_script("return document.documentElement.scrollHeight"))
    page.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": VIEWPORT[0], "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        out = folder / "report.png"
        assert page.save_screenshot(str(out))
    finally:
        page.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": VIEWPORT[0], "height": VIEWPORT[1], "deviceScaleFactor": 1, "mobile": False},
        )
    assert out.stat().st_size > 50_000, "screenshot looks blank"
