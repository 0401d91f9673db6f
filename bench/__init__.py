"""Benchmarks of SmartCrop against the fastest known ways, measured in the same run.

One module per benchmark (``python -m bench.NAME [--smoke]``), all of them with
``python -m bench.run_all`` (``make bench``). Each writes ``bench/results/NAME.json``
and ``NAME.md``; see ``bench/README.md``.
"""
