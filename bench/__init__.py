"""Benchmarks of SmartCrop against the fastest known ways, measured in the same run.

One entry module per benchmark (``python -m bench.NAME [--smoke]``): a module, or a
package whose ``__main__`` is the run and whose other modules are its own helpers
(``claims``, ``file_latency``, ``ingest``, ``scale``). What they share is in
``bench.harness``. All of them run with ``python -m bench.run_all`` (``make
bench``). Each writes ``bench/results/NAME.json`` and ``NAME.md``; see
``bench/README.md``.
"""
