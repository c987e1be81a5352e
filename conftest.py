"""pytest configuration: modules that must not be imported by doctest collection."""

collect_ignore = ["src/numderiv/__main__.py", "benchmarks"]
