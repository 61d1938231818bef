#!/usr/bin/env python3
"""Screenshot an HTML digest with headless Chromium (Debian package `chromium`), for the README.

    python scripts/digest_screenshot.py var/digests/sample/2026-02-21.html docs/digest.png [--width 760]

The page is rendered at the given width and tall enough for the whole digest; the empty space
below it is cut off when Pillow is installed.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--width", type=int, default=760)
    parser.add_argument("--height", type=int, default=6000)
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        print("no chromium found: apt-get install chromium", file=sys.stderr)
        return 2
    args.png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}",
             f"--window-size={args.width},{args.height}", f"--screenshot={args.png.resolve()}",
             args.html.resolve().as_uri()],
            check=True, capture_output=True, timeout=120,
        )
    try:
        from PIL import Image, ImageChops
    except ImportError:
        return 0
    image = Image.open(args.png).convert("RGB")
    background = Image.new("RGB", image.size, image.getpixel((image.width - 1, image.height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    if box:
        image = image.crop((0, 0, image.width, min(image.height, box[3] + 16)))
    # A palette of 96 colours keeps text crisp and the file a quarter of the size.
    image.quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(args.png, optimize=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
