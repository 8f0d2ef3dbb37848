"""The report's HTML in a real browser (Debian's headless chromium driven by
selenium): clicking a Python line highlights what it became in every stage
and opens them; with scripts off, every stage is still there."""

import os
import shutil

import pytest

webdriver = pytest.importorskip("selenium.webdriver")

from test_report import line_of, price  # noqa: E402  (the same function and its lines)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs chromium and chromedriver")


def browser(scripts=True):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000"):
        options.add_argument(flag)
    if not scripts:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "price.html"
    price.inspect().save(path)
    return "file://" + str(path)


def test_clicking_a_line_highlights_its_code_in_every_stage(page):
    log_line = line_of(price, "math.log")
    driver = browser()
    try:
        driver.get(page)
        asm = driver.find_element("css selector", 'details[data-stage="asm"]')
        assert asm.get_attribute("open") is None  # closed until a line is chosen
        driver.find_element("css selector", f'tr[data-line="{log_line}"]').click()
        selected = driver.find_elements("css selector", ".sel")
        lines = {e.get_attribute("data-line") for e in selected}
        assert lines == {str(log_line)}
        stages = {e.find_element("xpath", "ancestor::details[1]").get_attribute("data-stage")
                  for e in selected if e.tag_name == "span"}
        assert {"asm", "llvm", "ir"} <= stages
        assert asm.get_attribute("open") is not None
        calls = [e.text for e in asm.find_elements("css selector", "span.sel") if "call" in e.text]
        assert any("_ZGV" in c and "log" in c for c in calls), calls  # the vector log it became
        driver.save_screenshot(os.path.join(os.path.dirname(page[7:]), "report.png"))
    finally:
        driver.quit()


def test_without_scripts_every_stage_is_readable(page):
    driver = browser(scripts=False)
    try:
        driver.get(page)
        stages = driver.find_elements("css selector", "details.stage")
        assert [s.get_attribute("data-stage") for s in stages] == ["source-ir", "ir", "llvm", "asm"]
        stages[-1].find_element("tag name", "summary").click()  # <details> opens without scripts
        assert "vmovupd" in stages[-1].text or "vmulpd" in stages[-1].text
        assert "vectorized loop" in driver.find_element("css selector", "table.src").text
    finally:
        driver.quit()
