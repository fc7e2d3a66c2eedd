"""`python -m dsdnas` runs the command-line interface."""

from dsdnas.cli import main

if __name__ == "__main__":
    main()
