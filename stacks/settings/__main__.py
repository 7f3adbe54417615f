"""Command line of the settings model.

python -m stacks.settings check FILE...   validate config files (exit 1 on problems)
python -m stacks.settings generate        rewrite config/schema.json and docs/configuration.md
"""

from __future__ import annotations

import sys

from .loader import ConfigError, load_settings


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "check":
        failed = False
        for path in argv[1:]:
            try:
                load_settings(path)
            except ConfigError as err:
                print(err, file=sys.stderr)
                failed = True
        return 1 if failed else 0
    if argv == ["generate"]:
        from .reference import write_all  # only the generator needs it

        for changed in write_all():
            print(f"updated {changed}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
