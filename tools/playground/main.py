"""Start the playground, print how to point `smkit` at it, run until a stop signal."""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from .environment import CREDENTIALS, HOST, Environment, listen

if TYPE_CHECKING:
    from .server import Playground

DEFAULT_ACCOUNT = "123456789012"
"""moto's account, for a config that names none."""
DEFAULT_REGION = "us-east-1"
"""The region of a config that names none (the rehearsal's too)."""


class StopSignal(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, as KeyboardInterrupt is, so that no
    `except Exception` on the way (the stack creation has one) swallows it."""


class Stopper:
    """The SIGINT and SIGTERM handler: raises StopSignal in the main thread and remembers
    the signal, so that a start-up that swallowed the exception still stops at its end."""

    def __init__(self) -> None:
        self.received: str | None = None
        self._event = threading.Event()
        self._before: dict[int, Any] = {}

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        self.received = signal.Signals(signum).name
        self._event.set()
        raise StopSignal(self.received)

    def install(self) -> None:
        """Handle SIGINT and SIGTERM from now on."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            self._before[signum] = signal.signal(signum, self)

    def ignore(self) -> None:
        """A second signal while stopping changes nothing."""
        for signum in self._before:
            signal.signal(signum, signal.SIG_IGN)

    def uninstall(self) -> None:
        """The handlers of before `install`."""
        for signum, handler in self._before.items():
            signal.signal(signum, handler)

    def wait(self) -> None:
        """Until a signal arrives (returns at once if one did)."""
        self._event.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m tools.playground`: exit 0 when stopped by a signal, 2 on bad arguments
    or a port in use, 3 on a bad config or assembly, 1 when the stacks cannot be created."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.playground", description=__doc__, allow_abbrev=False
    )
    parser.add_argument("--assembly", required=True, type=Path, help="Synthesized cdk.out.")
    parser.add_argument("--config", required=True, type=Path, help="The config synthesized.")
    parser.add_argument(
        "--port", type=int, default=0, help="Port on 127.0.0.1. Default: a free one."
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    # Stop cleanly from the start: Ctrl-C during start-up also stops the server.
    stopper = Stopper()
    stopper.install()
    workdir = Path(tempfile.mkdtemp(prefix="smkit-playground-"))
    servers: list[Playground] = []
    code = 0
    try:
        try:
            code = _start(args, workdir, servers, stopper, started)
            if code == 0:
                stopper.wait()
        except StopSignal:
            pass
        stopper.ignore()
        if stopper.received:
            print(f"\nplayground: {stopper.received} received, stopping", flush=True)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        stopper.uninstall()
    if stopper.received:
        print("playground: stopped; nothing was kept", flush=True)
    return code


def _start(
    args: argparse.Namespace,
    workdir: Path,
    servers: list[Playground],
    stopper: Stopper,
    started: float,
) -> int:
    """Start the server (added to `servers` at once, so that a signal still stops it) and
    create the stacks: 0 when it is ready, else the exit code."""
    # Imported here, once the signal handlers are in place: they take seconds.
    from stacks.settings import ConfigError, load_settings
    from tools.assembly import AssemblyError, load_assembly

    try:
        settings = load_settings(args.config)
        assembly = load_assembly(args.assembly)
    except (ConfigError, AssemblyError) as err:
        print(f"playground: {err}", file=sys.stderr)
        return 3
    names = [stack.name for stack in assembly]
    if not names or any(not n.startswith(f"{settings.name_prefix}-") for n in names):
        print(
            f"playground: {args.assembly} holds {', '.join(names) or 'no stacks'}, not the "
            f"stacks of {args.config} ({settings.name_prefix}-*): synthesize it first "
            "(make playground does)",
            file=sys.stderr,
        )
        return 3
    try:
        listener = listen(args.port)
    except OSError as err:
        print(
            f"playground: cannot listen on {HOST}:{args.port} ({err.strerror}): stop what "
            "uses it, or choose another port (make playground PLAYGROUND_PORT=<port>)",
            file=sys.stderr,
        )
        return 2
    account = settings.account or DEFAULT_ACCOUNT
    region = settings.region or DEFAULT_REGION
    _isolate(account, region)
    # moto is imported once the environment is set.
    from .server import Playground

    server = Playground.start(listener, account)
    servers.append(server)
    report = server.deploy(assembly, settings, region, workdir)
    if not report.ok:
        print(report.failure(), file=sys.stderr)
        return 1
    environment = Environment(
        server.url, args.config.absolute(), region, settings.region is not None
    )
    if stopper.received:
        return 0
    print(report.summary(environment, settings, time.monotonic() - started), flush=True)
    return 0


def _isolate(account: str, region: str) -> None:
    """Nothing in this process may reach real AWS, read the user's AWS setup or reach the
    network: moto's account and region, placeholder credentials, no profile or config
    file, no Docker."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": CREDENTIALS,
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS,
            "AWS_DEFAULT_REGION": region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            # Every request lands in the config's account.
            "MOTO_ACCOUNT_ID": account,
            # moto runs Lambda code in Docker, pulling images from the internet: never
            # here, even where Docker runs (docs/playground.md, "What runs").
            "DOCKER_HOST": "unix:///nonexistent/smkit-playground-runs-no-docker.sock",
        }
    )
    # moto warns about each resource type its CloudFormation skips and logs every
    # JSONPath a definition probes for; the start-up summary says what matters.
    warnings.filterwarnings("ignore", module="moto")
    for name in ("moto", "werkzeug"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
