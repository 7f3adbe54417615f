"""`python -m smkit_cli` runs the `smkit` command."""

from .main import main

main()
