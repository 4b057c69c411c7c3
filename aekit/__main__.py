"""``python -m aekit`` runs the command line."""

import sys

from aekit.cli.main import main

sys.exit(main())
