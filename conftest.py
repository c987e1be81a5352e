"""pytest configuration.

* modules that must not be imported by doctest collection;
* on CI (``CI`` set in the environment) hypothesis draws the same examples
  every run, so that a submission's result does not depend on luck; locally
  it explores new ones.
"""

import os

from hypothesis import settings

collect_ignore = ["src/numderiv/__main__.py", "benchmarks"]
# the Sphinx configuration, its build-time plot scripts and the built site
collect_ignore += ["docs/conf.py", "docs/check_site.py", "docs/gallery", "docs/_build"]

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
