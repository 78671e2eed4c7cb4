"""``python -m skautosearch``: the ``skautosearch`` command."""

import sys

from skautosearch.cli import main

if __name__ == "__main__":
    sys.exit(main())
