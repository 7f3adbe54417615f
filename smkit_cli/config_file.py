"""Which config file `smkit` reads: `--config`, else $SMKIT_CONFIG, else, in a checkout of
the kit (the folder `make deploy` runs in), its default config. Anywhere else, with
neither given, the command stops and says how to name the file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from .errors import CliError, ExitCode

ENV_VAR = "SMKIT_CONFIG"
"""The environment variable that names the config file."""
KIT_DEFAULT = "config/default.yaml"
"""The kit's default config, relative to a checkout of the kit."""
KIT_MARKERS = ("cdk.json", "app.py", KIT_DEFAULT)
"""Files that make a folder a checkout of the kit."""


def resolve_config(
    given: str | None, *, environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> str:
    """The config file to read: `given` (--config), else $SMKIT_CONFIG, else the kit's
    default when `cwd` is a checkout of the kit. Raises a CONFIG error otherwise."""
    if given:
        return given
    from_environment = (os.environ if environ is None else environ).get(ENV_VAR)
    if from_environment:
        return from_environment
    folder = Path.cwd() if cwd is None else cwd
    if all((folder / marker).is_file() for marker in KIT_MARKERS):
        return KIT_DEFAULT
    raise CliError(
        "no config file: smkit reads the config the platform was deployed from "
        "(the CONFIG of `make deploy`), and none was named",
        ExitCode.CONFIG,
        hint=f"Pass --config FILE, or set {ENV_VAR}=FILE (e.g. export "
        f"{ENV_VAR}=$HOME/platform/config/my-team.yaml). Only in a checkout of the kit "
        f"does smkit fall back to {KIT_DEFAULT}.",
    )
