"""`python -m triage.cli` runs the command line, as the console script does."""

from triage.cli.app import main

main()
