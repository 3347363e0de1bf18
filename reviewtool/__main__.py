import sys

from reviewtool.cli import main

sys.exit(main())
