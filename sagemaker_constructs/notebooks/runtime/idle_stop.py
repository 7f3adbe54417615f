"""Stop this notebook instance once Jupyter has been idle for the configured minutes.

The notebook's on-start script embeds this file (it is never downloaded) and runs it
every 5 minutes as ec2-user, with the notebook's own role. Idle means: no kernel busy or
starting, and no kernel or terminal active within the last `--idle-minutes`. With no
kernel and no terminal at all, idle time counts from the later of Jupyter's start and
the last activity an earlier run saw. When Jupyter does not answer, nothing is stopped.
Every decision is one JSON line in CloudWatch Logs (and on stdout).
Plain Python 3.7+ and boto3: what a notebook instance's system Python has.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import ssl
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3

QUIET_KERNEL_STATES = ("idle", "dead")
_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


def parse_time(text: str) -> datetime:
    """A Jupyter timestamp (`2026-01-02T03:04:05.123456Z`) as an aware UTC datetime."""
    match = _TIME.match(text.strip())
    if not match:
        raise ValueError(f"not a timestamp: {text!r}")
    moment = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S")
    fraction = (match.group(2) or ".0")[1:7].ljust(6, "0")
    zone = match.group(3) or "Z"
    offset = timedelta(0)
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = int(zone[1:3]), int(zone[-2:])
        offset = sign * timedelta(hours=hours, minutes=minutes)
    return (moment + timedelta(microseconds=int(fraction)) - offset).replace(tzinfo=timezone.utc)


def fetch(base_url: str, path: str, timeout: float) -> Any:
    """GET a Jupyter API path as JSON. Jupyter listens on loopback with a self-signed
    certificate, so TLS is not verified, and only for a loopback address."""
    url = base_url.rstrip("/") + path
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in ("127.0.0.1", "localhost"):
        raise ValueError(f"Jupyter must be on loopback over http(s), not {base_url!r}")
    context = None
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - loopback http(s) only, checked above
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310 - loopback http(s) only, checked above
        return json.loads(response.read().decode("utf-8"))


def decide(
    kernels: list[dict[str, Any]],
    terminals: list[dict[str, Any]],
    started: datetime,
    last_seen: datetime | None,
    now: datetime,
    idle_minutes: int,
) -> tuple[bool, str, datetime]:
    """(stop?, reason, latest activity) for one look at Jupyter."""
    limit = timedelta(minutes=idle_minutes)
    latest = max(started, last_seen) if last_seen else started
    for kind, items in (("kernel", kernels), ("terminal", terminals)):
        for item in items:
            label = f"{kind} {item.get('name', '?')}" + (f" ({item['id']})" if "id" in item else "")
            state = item.get("execution_state")
            if kind == "kernel" and state not in QUIET_KERNEL_STATES:
                return False, f"{label} is {state}", now
            raw = item.get("last_activity")
            if not raw:
                return False, f"{label} reports no last activity", now
            latest = max(latest, parse_time(raw))
    quiet = now - latest
    summary = f"{len(kernels)} kernel(s), {len(terminals)} terminal(s)"
    if quiet < limit:
        minutes = int(quiet.total_seconds() // 60)
        return False, f"{summary}; last activity {minutes} min ago (< {idle_minutes})", latest
    minutes = int(quiet.total_seconds() // 60)
    return True, f"{summary}; no activity for {minutes} min (>= {idle_minutes})", latest


def read_state(path: str) -> datetime | None:
    """Latest activity an earlier run saw (kept on the root volume: reset on restart)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_time(json.load(handle)["last_activity"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(path: str, latest: datetime) -> None:
    text = latest.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"last_activity": text}, handle)


def log_decision(logs: Any, group: str, stream: str, record: dict[str, Any]) -> None:
    """One JSON line to CloudWatch Logs, creating the stream on first use. A failure is
    reported on stdout and does not stop the decision from being carried out."""
    event = {"timestamp": int(time.time() * 1000), "message": json.dumps(record, sort_keys=True)}
    print(event["message"], flush=True)
    try:
        try:
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[event])
        except logs.exceptions.ResourceNotFoundException:
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[event])
    except Exception as err:  # logging must not prevent the stop
        print(json.dumps({"log_error": str(err)}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stop this notebook instance when idle.")
    parser.add_argument("--notebook-name", required=True)
    parser.add_argument("--idle-minutes", type=int, required=True)
    parser.add_argument("--log-group", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--jupyter-url", default="https://127.0.0.1:8443")
    parser.add_argument("--state-file", default="/var/lib/smkit/idle-stop-state.json")
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args(argv)

    logs = boto3.client("logs", region_name=args.region)
    record: dict[str, Any] = {"notebook": args.notebook_name, "idle_minutes": args.idle_minutes}
    now = datetime.now(timezone.utc)
    try:
        kernels = fetch(args.jupyter_url, "/api/kernels", args.timeout)
        terminals = fetch(args.jupyter_url, "/api/terminals", args.timeout)
        started = parse_time(fetch(args.jupyter_url, "/api/status", args.timeout)["started"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        record.update(decision="keep", reason=f"Jupyter did not answer ({err}); not stopping")
        log_decision(logs, args.log_group, args.notebook_name, record)
        return 0
    stop, reason, latest = decide(
        kernels, terminals, started, read_state(args.state_file), now, args.idle_minutes
    )
    write_state(args.state_file, latest)
    if not stop:
        record.update(decision="keep", reason=reason)
        log_decision(logs, args.log_group, args.notebook_name, record)
        return 0

    sagemaker = boto3.client("sagemaker", region_name=args.region)
    status = sagemaker.describe_notebook_instance(NotebookInstanceName=args.notebook_name)[
        "NotebookInstanceStatus"
    ]
    if status != "InService":
        record.update(decision="keep", reason=f"{reason}, but the instance is {status}")
        log_decision(logs, args.log_group, args.notebook_name, record)
        return 0
    record.update(decision="stop", reason=reason)
    log_decision(logs, args.log_group, args.notebook_name, record)
    sagemaker.stop_notebook_instance(NotebookInstanceName=args.notebook_name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
