"""Render a run's report.html in Debian's chromium and save a PNG of it, for docs/ and for review.

    python scripts/screenshot_report.py RUN/report.html docs/report.png [--width 1400] [--height 1000]
        [--at '#pareto-macs'] [--full-page]

Needs the dev extra (playwright) and Debian's chromium; playwright's own browser download
is never used. The page is opened from disk, as a user opens it.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def screenshot(report: Path, out: Path, *, width: int, height: int, at: str | None, full_page: bool) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(report.resolve().as_uri())
        page.wait_for_function("document.querySelectorAll('#pareto-macs .point').length > 0")
        if at:  # the page scrolled so that this element's top is the screenshot's top
            page.evaluate("selector => document.querySelector(selector).scrollIntoView()", at)
        page.wait_for_timeout(500)  # plotly's transitions settle
        page.screenshot(path=str(out), full_page=full_page)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--at", help="a CSS selector to scroll to first, e.g. '#pareto-macs'")
    parser.add_argument("--full-page", action="store_true")
    args = parser.parse_args()
    screenshot(args.report, args.out, width=args.width, height=args.height, at=args.at, full_page=args.full_page)
    print(f"{args.out}: {args.out.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
