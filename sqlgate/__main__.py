"""``python -m sqlgate`` is the ``sqlgate`` command."""

import sys

from sqlgate.cli.main import main

sys.exit(main())
