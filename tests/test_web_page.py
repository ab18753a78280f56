"""The page in a real browser: headless Chromium, driven by Selenium, against a real mnist-serve.

Needs Debian's chromium and chromium-driver (README's test command installs
them); without them this test fails, saying what to install. Set
MNIST_WEB_SCREENSHOT=docs/web_page.png to save the page as README shows it.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SHIPPED_MODEL = ROOT / "models" / "mnist_model.h5"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT_S = 15


@contextmanager
def running_server(*options: str):
    """A real mnist-serve on a free port (port 0: it prints the one it got); yields (process, url)."""
    process = subprocess.Popen([sys.executable, str(ROOT / "mnist_serve.py"), "--port", "0",
                                "--model", str(SHIPPED_MODEL), *options], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert "http://" in line, process.stderr.read()
        url = line[line.index("http://"):].split()[0]
        wait_until_healthy(url)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def server():
    with running_server() as running:
        yield running


def wait_until_healthy(url: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def require_chromium() -> None:
    """Fail (never skip) without the browser: a skipped test would hide that the page went untested."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not shutil.which(path)]
    if missing:
        pytest.fail(f"the browser test needs {' and '.join(missing)}: "
                    "install them with `apt-get install -y chromium chromium-driver`", pytrace=False)


@contextmanager
def headless_chromium(profile: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", "--window-size=1280,1000", f"--user-data-dir={profile}"):
        options.add_argument(argument)
    # An explicit driver: Selenium Manager never looks for (or downloads) one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def hook(driver, name: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{name}"]')


def wait_for_text(driver, name: str, text: str) -> None:
    """Until `name` shows `text` and the page waits for nothing more: on a busy machine a
    drawing's last debounced request can still be on its way after an earlier answer shows."""
    from selenium.webdriver.support.ui import WebDriverWait

    def settled(_) -> bool:
        idle = driver.execute_script("return document.body.dataset.state") == "idle"
        return idle and hook(driver, name).text == text

    WebDriverWait(driver, WAIT_S).until(settled, f"{name} never showed {text!r} (it shows {hook(driver, name).text!r})")


def draw_a_one(driver) -> None:
    """A vertical stroke down the middle of the pad, as a mouse's pointer events."""
    from selenium.webdriver.common.action_chains import ActionChains

    pad = hook(driver, "pad")
    half = pad.size["height"] // 2
    actions = ActionChains(driver).move_to_element_with_offset(pad, 0, -int(0.7 * half)).click_and_hold()
    for _ in range(14):
        actions.move_by_offset(0, int(0.1 * half))
    actions.release().perform()


def test_drawing_and_uploading_in_a_real_browser_then_sigterm_stops_the_server(server, tmp_path):
    require_chromium()
    with headless_chromium(tmp_path / "profile") as browser:
        use_the_page(browser, server[1])
    process = server[0]
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=WAIT_S)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "stopped" in out


def use_the_page(browser, url: str) -> None:
    """Draw a 1, upload a photo of a 4, read a number, clear."""
    from selenium.webdriver.common.by import By

    browser.get(url)
    draw_a_one(browser)
    wait_for_text(browser, "digit", "1")
    assert "%" in hook(browser, "confidence").text
    assert hook(browser, "preview").get_attribute("src").startswith("data:image/png;base64,")

    hook(browser, "upload").send_keys(str(SAMPLES / "photo_001_4.jpg"))
    wait_for_text(browser, "digit", "4")
    assert hook(browser, "preview").get_attribute("src").startswith("data:image/png;base64,")
    if os.environ.get("MNIST_WEB_SCREENSHOT"):
        browser.save_screenshot(os.environ["MNIST_WEB_SCREENSHOT"])

    browser.find_element(By.ID, "number-mode").click()
    hook(browser, "upload").send_keys(str(SAMPLES / "numbers" / "paint_spaced_000.png"))
    wait_for_text(browser, "digit", "131347")

    hook(browser, "clear").click()
    wait_for_text(browser, "digit", "")


def test_two_worker_processes_answer_and_ctrl_c_stops_them_all_cleanly():
    with running_server("--workers", "2") as (process, url):
        request = urllib.request.Request(f"{url}/api/predict", data=(SAMPLES / "handwritten_digit.png").read_bytes(),
                                         headers={"Content-Type": "image/png"})
        with urllib.request.urlopen(request, timeout=WAIT_S) as response:
            assert b'"digit":7' in response.read()
        workers = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=WAIT_S)
    assert process.returncode == 0 and "Traceback" not in err and "stopped" in out, err
    # The workers are joined before the server exits; multiprocessing's resource tracker follows by itself.
    deadline = time.monotonic() + WAIT_S
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
