"""`python -m tools.playground` (see __init__.py)."""

import os
import sys

from .main import main

code = main()
# The server is stopped and the temporary folder removed; what is left is moto's state in
# memory, which the interpreter would free object by object for seconds: leave at once.
sys.stdout.flush()
sys.stderr.flush()
os._exit(code)
