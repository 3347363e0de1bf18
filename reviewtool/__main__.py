"""`python -m reviewtool`: the command as a process.

Importing reviewtool.cli first thing takes SIGINT, SIGTERM and SIGHUP (see cli.py), so an
interrupt from here on ends in one line and exit 128+N, never a traceback.
"""

import sys

from reviewtool.cli import main

sys.exit(main())
