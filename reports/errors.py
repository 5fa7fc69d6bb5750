"""The one error ``reports`` raises on purpose.

    ValueError
    └── ReportInputError    a results file, a key in it, or a regression rule is unusable

The harness CLI maps ``ReportInputError`` to exit status 2. A regression is not an
error: :func:`reports.regression.gate` returns exit code 1 instead of raising.
"""

from __future__ import annotations


class ReportInputError(ValueError):
    """Bad input to a report; the one-line message names the file and the key.

    >>> str(ReportInputError("runs/x/results.json: runs[0].mode: missing"))
    'runs/x/results.json: runs[0].mode: missing'
    """
