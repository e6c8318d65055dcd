"""Implementations in array-API code: one module per family."""
