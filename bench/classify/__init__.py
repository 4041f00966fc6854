"""The classify benchmark: ``python -m bench.classify`` (see __main__.py)."""
