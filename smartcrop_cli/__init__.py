"""The ``smartcrop`` command: the composition root of SmartCrop.

It is the one place that puts the parts together: the domain (``smartcrop``), the API
(``api``) and the Dagster code location (``pipelines``, ``assets``). It lives outside
the ``smartcrop`` package on purpose: the domain imports none of those parts
(tests/test_layering.py keeps it so).
"""
