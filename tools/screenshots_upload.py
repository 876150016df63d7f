"""Screenshots of the Data page after an upload, in both languages:
python -m tools.screenshots_upload OUT_DIR FILE [FILE ...]

Starts `streamlit run` on a fresh demo database, uploads each file through the real file
input in headless Chromium and writes OUT_DIR/data-<file>-<lang>.png — the mapping step,
the preview, the validation report or the refusal, as a user sees them.
"""
from __future__ import annotations

import sys
from pathlib import Path

from tools.screenshots import browser_pages, each_page


def main() -> None:
    out = Path(sys.argv[1])
    files = [Path(f) for f in sys.argv[2:]]
    out.mkdir(parents=True, exist_ok=True)
    with browser_pages(1440, 900) as (port, new_page):
        for lang, path, page in each_page(new_page, files):
            page.goto(f"http://127.0.0.1:{port}/data?lang={lang}")
            page.wait_for_selector('[data-testid="stFileUploader"]', timeout=60_000)
            page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(path))
            page.wait_for_timeout(8000)
            mapping = page.get_by_test_id("stMain").get_by_test_id("stExpander").locator("summary")
            if mapping.count() and mapping.first.get_attribute("aria-expanded") != "true":
                mapping.first.click()  # show the column mapping
                page.wait_for_timeout(2500)
            page.screenshot(path=str(out / f"data-{path.stem}-{lang}.png"), full_page=True)


if __name__ == "__main__":
    main()
