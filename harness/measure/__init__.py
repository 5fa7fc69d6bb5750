"""Measurements: the one record, summaries and percentiles, HDR histograms, event times,
the results document, machine facts and the process's own resource use.

Nothing here sends a request or imports the layers above it (``run``, ``generators``,
``resilience``, ``gemini``, ``cli``): every module is arithmetic over records and clocks.
"""
