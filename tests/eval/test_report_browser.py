"""The HTML report and the replay gallery open in headless Chromium: plot, videos and posters load, no console errors."""
from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from embodied.cli import main as cli

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True,
                                                       args=FLAGS, viewport={"width": 1280, "height": 900})
        yield context
        context.close()


def _open(browser, page_path):
    page = browser.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    page.goto(page_path.resolve().as_uri(), wait_until="load")
    page.wait_for_function("() => [...document.querySelectorAll('video')].every(v => v.readyState >= 1 || v.error)",
                           timeout=20000)
    return page, problems


def _videos(page):
    return page.evaluate("""() => [...document.querySelectorAll('video')].map(v => ({
        src: v.getAttribute('src'), ready: v.readyState, width: v.videoWidth, height: v.videoHeight,
        duration: v.duration, error: v.error && v.error.code}))""")


def test_eval_report_in_chromium(browser, tmp_path):
    out = tmp_path / "run"
    assert cli(["eval", "policy=oracle", "trials=2", "episodes=2", "videos=3", "video_size=128",
                "references=[random]", "cluster=inprocess", f"out={out}"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    page, problems = _open(browser, out / "report.html")
    plot = page.evaluate("() => { const i = document.querySelector('img#curve'); "
                         "return i && i.complete ? [i.naturalWidth, i.naturalHeight] : null; }")
    assert plot is not None and plot[0] >= 800 and plot[1] >= 500
    videos = _videos(page)
    assert [v["src"] for v in videos] == [v["video"] for v in metrics["videos"]] and len(videos) == 3
    for v in videos:  # H.264 decodes in the browser: real dimensions and duration
        assert v["error"] is None and (v["width"], v["height"]) == (384, 152) and v["duration"] > 0
    posters = page.evaluate("() => Promise.all([...document.querySelectorAll('video')].map(v => new Promise(ok => {"
                            "const i = new Image(); i.onload = () => ok(i.naturalWidth); i.onerror = () => ok(0);"
                            "i.src = v.poster; })))")
    assert posters == [384] * 3
    assert page.locator("table").count() == 2 + 3  # two policies' curves and one metrics table per video
    shot = out / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    img = cv2.imread(str(shot))
    assert img.shape[1] == 1280 and img.shape[0] > 900 and float(img.std()) > 20  # a real page, not blank
    assert problems == []


def test_replay_gallery_in_chromium(browser, tmp_path):
    assert cli(["eval", "policy=oracle", "trials=1", "episodes=2", "videos=0", "references=none",
                "cluster=inprocess", f"out={tmp_path / 'run'}"]) == 0
    gallery = tmp_path / "gallery"
    assert cli(["replay", str(tmp_path / "run" / "episodes"), "--out", str(gallery), "size=64"]) == 0
    page, problems = _open(browser, gallery / "index.html")
    videos = _videos(page)
    assert len(videos) == 2 and all(v["error"] is None and v["width"] == 192 and v["ready"] >= 1 for v in videos)
    text = page.inner_text("body")
    assert "2 episodes, 2 successful" in text and "success" in text
    assert problems == []
