"""Turn results files (JSON) into tables, plots, HTML and a regression verdict.

``reports`` reads results files only and imports nothing from ``harness``, so any saved
run can be re-rendered or compared later. Importing the package is cheap: matplotlib is
imported only by :mod:`reports.plots`, which :func:`reports.render.render_report` loads
when it draws. Typical use::

    from reports.render import render_report
    from reports.regression import gate

    paths = render_report([Path("runs/20261128T134000Z-compare")], Path("out"))
    result = gate(Path("runs/baseline"), Path("runs/…/results.json"), None)
"""

from reports.errors import ReportInputError

__all__ = ["ReportInputError"]
