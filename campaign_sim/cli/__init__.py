"""The ``campaign-sim`` command line (typer): thin, one command per workflow."""
