"""Checking: backends, the conformance engine, reports and the pytest plugin.

- ``backends``: the array libraries installed here, as test targets;
- ``engine``: one implementation against one spec on one backend (``check_op``), built on
  ``convert`` (cases as a backend's inputs, the oracle's expectation), ``checks`` (value
  comparisons), ``transforms`` (``jax.jit`` and autodiff) and ``variants`` (the forms
  users hold inputs in);
- ``results``: what a cell gives (``Status``, ``OpResult``), read by everything below;
- ``targets`` and ``natives``: someone else's implementation under test;
- ``workers`` and ``resources``: the matrix in worker processes, and what they hold;
- ``report`` and ``pytest_plugin``: the results as reports and as test items.
"""
