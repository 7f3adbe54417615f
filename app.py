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
    # CDK's built-in template check is cfn-lint's rules compiled to WebAssembly: it costs
    # about 1.5 s of a full synthesis and, by default, only warns. The kit runs cfn-lint
    # itself on every synthesized template and that built-in check on both shipped
    # configs in `make test` (tests/test_oracles_on_app.py), so synthesis skips it.
    app = cdk.App(builtin_cloud_formation_validation=False)
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
