"""The `triage` command line: one module per command group."""
