"""Real headless Chromium (Debian's `chromium` + `chromium-driver`): staff of two levels log in, use the
dashboard and the residents page on a 375-px phone and an office screen. Screenshots go to
test-artifacts/console/ (git-ignored). Skipped, with the reason shown, where Chromium is not installed."""
from __future__ import annotations

import asyncio
import importlib.util
import shutil
from pathlib import Path

import pytest

from tests.console.conftest import PASSWORD, build_world

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
SELENIUM = importlib.util.find_spec("selenium") is not None
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER and SELENIUM),
                                reason="需要 Debian 的 chromium 和 chromium-driver（apt-get install -y chromium "
                                       "chromium-driver）以及 selenium（pip install selenium）")


def _driver(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--lang=zh-CN", "--force-device-scale-factor=1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    # headless windows are at least 500 px wide: emulate the phone's viewport exactly
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})
    return driver


def _arrived(wait, url_part: str) -> None:
    """The browser has navigated to a URL containing `url_part` and finished loading it."""
    wait.until(lambda d: url_part in d.current_url and d.execute_script("return document.readyState") == "complete")


def _main_text(wait) -> str:
    """The text of <main>, read in one script call so a late re-render cannot leave a stale element behind."""
    return wait.until(lambda d: d.execute_script("const m = document.querySelector('main'); return m && m.innerText"))


def _session(base: str, username: str, width: int, height: int, shots: list[str]) -> dict:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver = _driver(width, height)
    seen: dict = {}
    try:
        wait = WebDriverWait(driver, 15)
        driver.get(base + "/console/residents")  # → login, then back here
        driver.find_element(By.NAME, "username").send_keys(username)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.save_screenshot(str(ARTIFACTS / f"{username}-{width}-login.png"))
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        _arrived(wait, "/console/residents")
        seen["residents"] = _main_text(wait)
        seen["overflow_residents"] = driver.execute_script("return document.documentElement.scrollWidth")
        driver.save_screenshot(str(ARTIFACTS / f"{username}-{width}-residents.png"))
        driver.get(base + "/console/")
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "[data-panel=binding] svg")))
        seen["dashboard"] = driver.find_element(By.TAG_NAME, "main").text
        seen["overflow_dashboard"] = driver.execute_script("return document.documentElement.scrollWidth")
        driver.save_screenshot(str(ARTIFACTS / f"{username}-{width}-dashboard.png"))
        shots.extend(p.name for p in ARTIFACTS.glob(f"{username}-{width}-*.png"))
        selects = driver.find_elements(By.NAME, "community")
        if selects:
            Select(selects[0]).select_by_index(1)
            driver.find_element(By.CSS_SELECTOR, "form.filters button").click()
            _arrived(wait, "community=")
            seen["narrowed"] = _main_text(wait)
            driver.save_screenshot(str(ARTIFACTS / f"{username}-{width}-dashboard-one-community.png"))
        driver.find_element(By.CSS_SELECTOR, "header form button").click()  # 退出
        wait.until(ec.url_contains("/console/login"))
        seen["after_logout"] = driver.current_url
    finally:
        driver.quit()
    return seen


async def test_two_levels_on_phone_and_desktop(aiohttp_client, sqlite_url):
    world = await build_world(aiohttp_client, sqlite_url)
    base = str(world.client.make_url("")).rstrip("/")
    shots: list[str] = []
    community = await asyncio.to_thread(_session, base, "yijing", 375, 812, shots)
    district = await asyncio.to_thread(_session, base, "hexi", 1280, 900, shots)
    district_phone = await asyncio.to_thread(_session, base, "hexi", 375, 812, shots)

    assert "谊景社区" in community["dashboard"] and "平江社区" not in community["dashboard"]
    assert "谊景社区" in community["residents"] and "蓝水社区" not in community["residents"]
    assert "narrowed" not in community  # a community worker has nothing to narrow
    assert "蓝水社区" in district["dashboard"] and "学苑社区" not in district["dashboard"]
    assert "居民概况" in district["narrowed"]
    for seen in (community, district_phone):  # nothing wider than the phone: tables scroll inside their card
        assert seen["overflow_dashboard"] <= 375 and seen["overflow_residents"] <= 375
    assert all("/console/login" in s["after_logout"] for s in (community, district))
    assert len(shots) >= 9
