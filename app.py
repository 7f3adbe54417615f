#!/usr/bin/env python3
"""The CDK app: load the config -> build the stacks -> apply app-wide checks.

The config file comes from the `config` context value (`cdk synth -c config=FILE`,
`make synth CONFIG=FILE`); cdk.json sets the embedded default.
"""

from __future__ import annotations

import sys

import aws_cdk as cdk

from stacks.platform import add_checks, build_platform
from stacks.settings import ConfigError, load_settings


def main() -> int:
    app = cdk.App()
    config_path = app.node.try_get_context("config") or "config/default.yaml"
    try:
        settings = load_settings(config_path)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 1
    build_platform(app, settings)
    add_checks(app)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
