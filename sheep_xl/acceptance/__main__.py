"""``python -m sheep_xl.acceptance``: the same as ``sheep-xl excel-check``."""

import sys

from sheep_xl.acceptance.runner import main

sys.exit(main())
