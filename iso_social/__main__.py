"""`python -m iso_social` runs the command-line interface."""

from iso_social.cli import app

app(prog_name="iso-social")
