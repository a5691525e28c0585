"""Render a case's HTML report with headless Chromium to a PNG (the picture in the README).

    python docs/html_screenshot.py [BUNDLE] [-o docs/img/html-report.png] [--open m7] [--size 1400,1500]

Writes the report next to the PNG's name (.html), then has Chromium draw it offline: no network,
no sync, no extensions, a throwaway profile. `--open ID` opens that embedded message in the side
pane first (the page opens the message a link's #ID names). Needs Debian's `chromium` (or
`chromium-browser`, `google-chrome`) on PATH; the tests do not.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from logcorr import api  # noqa: E402
from logcorr.report import html  # noqa: E402

CASE = REPO / "tests" / "cases" / "no-connectionbind" / "bundle.zip"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def browser() -> str:
    found = next((shutil.which(b) for b in BROWSERS if shutil.which(b)), None)
    if found is None:
        sys.exit("html_screenshot: no chromium on PATH (apt-get install chromium)")
    return found


def screenshot(page: Path, png: Path, size: str, anchor: str = "") -> None:
    with tempfile.TemporaryDirectory() as profile:
        args = [browser(), "--headless", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                f"--user-data-dir={profile}", f"--screenshot={png}", f"--window-size={size}",
                page.resolve().as_uri() + (f"#{anchor}" if anchor else "")]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle", nargs="?", type=Path, default=CASE)
    ap.add_argument("-o", "--output", type=Path, default=REPO / "docs" / "img" / "html-report.png")
    ap.add_argument("--open", default="", help="the id of an embedded message to open in the side pane")
    ap.add_argument("--size", default="1800,1500", help="the window, WIDTH,HEIGHT in pixels")
    a = ap.parse_args()
    bundle = Path(os.path.relpath(a.bundle.resolve(), Path.cwd()))  # the page names it as given
    page = html.write(api.diagnose(bundle), bundle, a.output.with_suffix(".html"))
    screenshot(page, a.output, a.size, a.open)
    print(f"{a.output} ({page})")


if __name__ == "__main__":
    main()
