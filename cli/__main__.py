"""`python -m pactkb.cli`: the same as the `pactkb` command."""

from pactkb.cli.main import main

main()
