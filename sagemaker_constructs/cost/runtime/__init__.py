"""Lambda code of the budget guard (deployed as this folder)."""
