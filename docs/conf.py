"""Sphinx configuration of the numderiv documentation site.

Built by ``make docs`` (``sphinx-build -W --keep-going -b html docs
docs/_build/html``), offline: no intersphinx inventories are fetched, the
theme's assets are bundled, and math is drawn at build time by matplotlib's
mathtext as inline SVG (MathJax would be fetched from a CDN at view time).
"""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# The build-time plot scripts import their helpers from docs/gallery.
sys.path.insert(0, str(HERE / "gallery"))

import numderiv  # noqa: E402

project = "numderiv"
author = "the numderiv developers"
copyright = "2026, the numderiv developers"
release = numderiv.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "matplotlib.sphinxext.plot_directive",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]
nitpicky = False

# -- MyST ---------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# -- API reference ------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc's Parameters section says it all
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_attributes_as_param_list = True

# -- plots made at build time (matplotlib's plot directive) ------------------
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 110)]
plot_rcparams = {"figure.figsize": (6.4, 4.2), "figure.dpi": 110}
plot_pre_code = "import numpy as np\nimport numderiv as nd\n"

# -- HTML ---------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"numderiv {release}"
html_static_path = ["_static"]
html_css_files = ["numderiv.css"]
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "header_links_before_dropdown": 8,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "quickstart": [], "changelog": [], "benchmarks": []}

# -- math without a CDN: matplotlib's mathtext, inline SVG --------------------
html_math_renderer = "mathtext"


def _math_svg(latex: str, size: float) -> str:
    """``latex`` drawn by mathtext as an SVG data URI (glyphs as paths)."""
    from matplotlib import mathtext
    from matplotlib.font_manager import FontProperties

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "mathtext.fontset": "cm"}):
        mathtext.math_to_image(
            f"${' '.join(latex.split())}$",
            buf,
            prop=FontProperties(size=size),
            format="svg",
        )
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


def _html_math(self: Any, node: Any, latex: str, block: bool) -> None:
    from docutils import nodes
    from sphinx.util import logging

    try:
        src = _math_svg(latex, 17.0 if block else 14.5)
    except ValueError as err:  # mathtext's parse error
        logging.getLogger(__name__).warning(
            "math %r cannot be drawn by mathtext: %s", latex, err, location=node
        )
        self.body.append(f"<code>{self.encode(latex)}</code>")
        raise nodes.SkipNode from None
    alt = self.attval(latex)
    if block:
        self.body.append(
            f'<div class="math numderiv-math"><img src="{src}" alt="{alt}"></div>'
        )
    else:
        self.body.append(f'<img class="math numderiv-math" src="{src}" alt="{alt}">')
    raise nodes.SkipNode


def _visit_inline(self: Any, node: Any) -> None:
    _html_math(self, node, node.astext(), block=False)


def _visit_block(self: Any, node: Any) -> None:
    _html_math(self, node, node.astext(), block=True)


# -- links out of docs/ to files the site renders as pages --------------------
# The pages link to ``../benchmarks/RESULTS.md`` and ``../CHANGELOG.md`` so
# that they work where the repository is browsed; on the site the same files
# are the pages ``benchmarks`` and ``changelog``.
_SITE_PAGES = {
    "../benchmarks/RESULTS.md": "benchmarks.md",
    "../CHANGELOG.md": "changelog.md",
    "../README.md": "index.md",
}


def _link_site_pages(app: Any, docname: str, source: list[str]) -> None:
    if "/" in docname:  # only pages at the top of docs/ link with ``../``
        return
    text = source[0]
    for target, page in _SITE_PAGES.items():
        text = text.replace(f"]({target})", f"]({page})")
    source[0] = text


def setup(app: Any) -> None:
    app.connect("source-read", _link_site_pages)
    app.add_html_math_renderer("mathtext", (_visit_inline, None), (_visit_block, None))
