"""The seed's recipe API (FastAPI) in three concurrency modes: the system under test for Locust.

Build an app from settings and serve it (``python -m harness serve`` does this)::

    from harness.service.app import create_app
    from harness.service.settings import ServiceSettings
    app = create_app(ServiceSettings(target, mode="threaded"))

The package ``__init__`` imports nothing, so a locustfile may import
:mod:`harness.run.service_child` without pulling in FastAPI.
"""

from typing import Literal, get_args

ServiceMode = Literal["async", "threaded", "blocking"]
MODES: tuple[str, ...] = get_args(ServiceMode)

DEFAULT_MAX_BODY_BYTES = 1 << 20
"""1 MiB, the default cap on a request body: a batch of five of the largest valid bodies is
about 32 KiB of JSON (``serve --max-body-bytes``)."""
