"""Checking: backends, the conformance engine, reports and the pytest plugin."""
