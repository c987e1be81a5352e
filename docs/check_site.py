"""Look at the built documentation site in a headless browser.

Run after ``make docs``::

    .venv/bin/python docs/check_site.py            # or: --chromium /path/to/chromium

It serves ``docs/_build/html`` on localhost, opens pages in Debian's
``chromium`` (headless, no network beyond localhost), and checks that

- the landing page and the API reference render (their text is in the DOM),
- a gallery figure is an ``<img>`` whose PNG the server delivers,
- the search page finds ``jacobian`` (the results are written by the
  theme's JavaScript, so the DOM is read after a virtual-time budget),
- no page loads a script, style sheet, font or image from elsewhere (the
  site works offline).

Screenshots go to ``docs/_build/screenshots/``; look at them.  Exit status
0 when every check passes, 1 otherwise (each failure is printed).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
SITE = HERE / "_build" / "html"
SHOTS = HERE / "_build" / "screenshots"

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,1600",
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    """Serves the site without a log line per request."""

    def log_message(self, format: str, *args: object) -> None:
        pass


# What a page loads by itself (not what it links to).
_ASSET = re.compile(
    r"<(?:script|img|iframe|source)\b[^>]*\bsrc=\"([^\"]*)\"|"
    r"<link\b[^>]*\bhref=\"([^\"]*)\"[^>]*>"
)


def _external_assets(site: Path) -> list[str]:
    """``file: url`` of every asset a built page would fetch from elsewhere."""
    found = []
    for page in sorted(site.rglob("*.html")):
        for m in _ASSET.finditer(page.read_text(encoding="utf-8")):
            url = m[1] or m[2]
            tag = m[0]
            if tag.startswith("<link") and not re.search(
                r'rel="(stylesheet|preload|icon)"', tag
            ):
                continue
            if re.match(r"(https?:)?//", url):
                found.append(f"{page.relative_to(site)}: {url}")
    return found


def _serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _chromium(binary: str, profile: str, *args: str, timeout: float = 90) -> str:
    cmd = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)}: exit {done.returncode}: {done.stderr[-500:]}"
        )
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--chromium", default=shutil.which("chromium") or "/usr/bin/chromium"
    )
    parser.add_argument("--site", type=Path, default=SITE)
    opts = parser.parse_args(argv)
    if not (opts.site / "index.html").is_file():
        print(f"no built site in {opts.site}: run `make docs` first", file=sys.stderr)
        return 1
    if not Path(opts.chromium).is_file():
        print(
            f"chromium not found at {opts.chromium} (apt-get install chromium)",
            file=sys.stderr,
        )
        return 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []

    def check(ok: bool, what: str) -> None:
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    server, base = _serve(opts.site)
    with tempfile.TemporaryDirectory() as profile:
        try:

            def dom(page: str, budget: int = 2000) -> str:
                return _chromium(
                    opts.chromium,
                    profile,
                    f"--virtual-time-budget={budget}",
                    "--dump-dom",
                    f"{base}/{page}",
                )

            def shot(page: str, name: str, budget: int = 2000) -> Path:
                out = SHOTS / f"{name}.png"
                out.unlink(missing_ok=True)
                _chromium(
                    opts.chromium,
                    profile,
                    f"--virtual-time-budget={budget}",
                    f"--screenshot={out}",
                    f"{base}/{page}",
                )
                check(
                    out.is_file() and out.stat().st_size > 10_000,
                    f"screenshot of {page} -> {out.relative_to(HERE.parent)}",
                )
                return out

            # The landing page.
            html = dom("index.html")
            check(
                "Numerical differentiation for Python" in html,
                "index.html renders its text",
            )
            shot("index.html", "index")

            # The API reference: the index and one generated page.
            html = dom("api/index.html")
            check(
                "API reference" in html and "numderiv.grid" in html,
                "api/index.html lists the namespaces",
            )
            page = "api/generated/numderiv.jacobian.html"
            html = dom(page)
            check(
                all(
                    s in html
                    for s in ("numderiv.jacobian", "Parameters", "Returns", "Examples")
                ),
                f"{page} shows the numpydoc sections",
            )
            check(
                'numderiv-math" src="data:image/svg+xml'
                in dom("api/generated/numderiv.noise_level.html"),
                "math is drawn as inline SVG (noise_level)",
            )
            shot(page, "api_jacobian")

            # The gallery: figures are <img> of PNGs the server delivers.
            html = dom("gallery/index.html")
            images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html)
            check(
                len(images) >= 5, f"gallery/index.html has {len(images)} figures (>= 5)"
            )
            if images:
                url = f"{base}/gallery/{images[0]}"
                with urllib.request.urlopen(url) as reply:
                    data = reply.read()
                check(
                    data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000,
                    f"gallery image {images[0]} is a PNG of {len(data)} bytes",
                )
            shot("gallery/index.html", "gallery")
            shot("benchmarks.html", "benchmarks")

            # Search: the theme's JavaScript fills the results in.
            page = "search.html?q=jacobian"
            html = dom(page, budget=5000)
            hits = re.findall(
                r'<li[^>]*>\s*<a[^>]+href="([^"]+)"',
                html.split('id="search-results"', 1)[-1],
            )
            check(
                any("jacobian" in h for h in hits),
                f"{page} finds pages about the Jacobian ({len(hits)} results)",
            )
            shot(page, "search", budget=5000)
        finally:
            server.shutdown()

    outside = _external_assets(opts.site)
    check(
        not outside,
        "no page loads anything from outside the site"
        + (f": {outside[:3]}" if outside else ""),
    )
    print(f"{len(failures)} failure(s); screenshots in {SHOTS}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
