"""``python -m harness`` → :func:`harness.cli.main`."""

import sys

from harness.cli import main

if __name__ == "__main__":
    sys.exit(main())
