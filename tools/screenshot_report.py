"""Makes docs/report.png: the report of the README's `price`, opened in
headless chromium with the line of math.log selected.

    PYTHONPATH=python python3 tools/screenshot_report.py
"""
import os
import shutil
import sys
import tempfile

from selenium import webdriver

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = '''import math
import ember


@ember.vectorize(["float64(float64, float64, float64)"])
def price(s, k, t):
    d = (math.log(s / k) + 0.02 * t) / math.sqrt(t)
    return s * math.exp(-t) if d > 0 else k - s
'''


def main():
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "readme_price.py"), "w") as f:
            f.write(SOURCE)
        sys.path.insert(0, tmp)
        import readme_price
        page = os.path.join(tmp, "price.html")
        readme_price.price.inspect().save(page)
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")  # Debian's, with its chromedriver
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,900"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options,
                                  service=webdriver.ChromeService(shutil.which("chromedriver")))
        try:
            driver.get("file://" + page)
            driver.find_element("css selector", 'tr[data-line="7"]').click()
            driver.execute_script(  # the selected line's code in view in the IR and assembly
                "document.querySelectorAll('details.stage').forEach(function (d) {"
                "  d.open = d.dataset.stage === 'ir' || d.dataset.stage === 'asm';"
                "  var pre = d.querySelector('pre'), hit = pre.querySelector('.sel');"
                "  if (hit) pre.scrollTop = hit.offsetTop - pre.offsetTop - 60; });")
            driver.save_screenshot(os.path.join(ROOT, "docs", "report.png"))
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
