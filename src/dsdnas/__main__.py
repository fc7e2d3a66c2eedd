"""`python -m dsdnas` runs the command-line interface, exactly as the `dsdnas` script does."""

import sys

from dsdnas.cli import main

if __name__ == "__main__":
    sys.exit(main())
