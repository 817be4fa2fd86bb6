"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``) driven by Playwright.

Checks that every section renders and is visible, every figure loads, the table of contents leads
to the sections, nothing logs an error, and the page fits a laptop screen without sideways scrolling.
Where Chromium or Playwright is missing the tests skip with the reason; under ``CI=true`` they fail.
Playwright's own browser download is never used: Chromium comes from the system (``make test``
installs Debian's package).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from omega_graph import OmegaStore
from omega_graph.report import SECTIONS, ReportFiles, write_report
from omega_graph.sample import build_sample_store

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: A common laptop screen.
LAPTOP = {"width": 1366, "height": 768}


def chromium_path() -> str | None:
    for candidate in (os.environ.get("OMEGA_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):  # fmt: skip
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def unavailable(reason: str) -> None:
    """Skip with ``reason``, or fail under CI, where the browser test must run."""
    msg = f"browser test cannot run: {reason}"
    if os.environ.get("CI") == "true":
        pytest.fail(msg + " (CI=true: the browser test must run; `make test` installs Debian's chromium)")
    pytest.skip(msg + "; install Debian's chromium package (`make browser`, needs root) to run it")


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    root = tmp_path_factory.mktemp("browser")
    with build_sample_store(root / "sample.db") as store:
        return write_report(store, root / "report")


def open_report(browser, path: Path, viewport: dict[str, int] = LAPTOP):
    page = browser.new_page(viewport=viewport)
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, problems


def test_every_section_renders_and_every_image_loads(
    browser, sample_report: ReportFiles, tmp_path: Path
) -> None:
    page, problems = open_report(browser, sample_report.html)
    try:
        assert page.title().startswith("omega-graph report")
        for sid, title in SECTIONS:
            section = page.locator(f"section#{sid}")
            assert section.count() == 1, sid
            section.scroll_into_view_if_needed()
            assert section.is_visible(), sid
            heading = section.locator("h2")
            assert heading.is_visible() and title in heading.inner_text()
            box = section.bounding_box()
            assert box is not None and box["height"] > 60, f"section {sid} is collapsed"
        images = page.evaluate(
            "Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, w: i.naturalWidth,"
            " h: i.naturalHeight, shown: i.getBoundingClientRect().width}))"
        )
        assert len(images) == len(sample_report.figures) == 7
        for img in images:
            assert img["complete"] and img["w"] > 0 and img["h"] > 0, img["alt"]
            assert 300 < img["shown"] <= LAPTOP["width"], img  # scaled to the column, still large
        # nothing wider than a laptop screen: no sideways scrolling of the page
        assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
        page.evaluate("window.scrollTo(0, 0)")
        shot = tmp_path / "report.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes().startswith(b"\x89PNG")
        assert problems == []
    finally:
        page.close()


def test_table_of_contents_leads_to_each_section(browser, sample_report: ReportFiles) -> None:
    page, problems = open_report(browser, sample_report.html)
    try:
        links = page.locator("nav.toc a")
        assert links.count() == len(SECTIONS)
        for i, (sid, title) in enumerate(SECTIONS):
            link = links.nth(i)
            assert link.inner_text() == title
            link.click()
            page.wait_for_function(f"location.hash === '#{sid}'")
            # the page scrolls smoothly: wait until the section's top reaches the window's top (or
            # the page's end, for the last sections)
            page.wait_for_function(
                f"(() => {{ const top = document.getElementById('{sid}').getBoundingClientRect().top;"
                " const end = window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 2;"
                " return (top >= -2 && top <= 40) || end; })()",
                timeout=10_000,
            )
        assert problems == []
    finally:
        page.close()


def test_narrow_window_stacks_the_contents_above(browser, sample_report: ReportFiles) -> None:
    page, problems = open_report(browser, sample_report.html, {"width": 800, "height": 900})
    try:
        nav = page.locator("nav.toc").bounding_box()
        main = page.locator("main").bounding_box()
        assert nav is not None and main is not None
        assert nav["y"] + nav["height"] <= main["y"] + 1  # above, not beside
        assert page.evaluate("document.documentElement.scrollWidth") <= 800
        assert problems == []
    finally:
        page.close()


def test_empty_store_report_renders(browser, tmp_path: Path) -> None:
    with OmegaStore(tmp_path / "empty.db") as store:
        files = write_report(store, tmp_path / "out")
    page, problems = open_report(browser, files.html)
    try:
        for sid, _ in SECTIONS:
            assert page.locator(f"section#{sid}").is_visible()
        empties = page.locator("p.empty")
        assert empties.count() == len(SECTIONS) - 1
        assert all(t.startswith("No data") for t in empties.all_inner_texts())
        assert problems == []
    finally:
        page.close()


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_missing_browser_skips_except_under_ci(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type
) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="browser test cannot run: no Chromium"):
        unavailable("no Chromium here")
