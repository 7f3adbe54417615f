"""Stop this notebook instance once Jupyter has been idle for the configured minutes.

The notebook's on-start script embeds this file (it is never downloaded) and runs it
every 5 minutes as ec2-user, with the notebook's own role. Idle means: no kernel busy or
starting, and no kernel or terminal active within the last `--idle-minutes`. With no
kernel and no terminal at all, idle time counts from the later of Jupyter's start and
the last activity an earlier run saw. Times ahead of the instance's clock count as now.

Jupyter is found where it says it is: the server files it writes in its runtime folder
(`jpserver-<pid>.json`, `nbserver-<pid>.json`: port, TLS, token), else the ports the
notebook platforms use. When Jupyter does not answer, nothing is stopped.

Every run ends in exactly one JSON line in CloudWatch Logs (and on stdout): `decision`
keep, stop, stop-failed or error, its reason, and `consecutive_failures`, the runs in a
row that could not decide or act (Jupyter did not answer or answered in an unknown shape,
an AWS call failed), which the kit's metric filter turns into an alarm.
Plain Python 3.7+ and boto3: what a notebook instance's system Python has.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import http.client
import json
import os
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
RUNTIME_DIR = "/home/ec2-user/.local/share/jupyter/runtime"
# Where Jupyter listens when no server file says: 8443 over TLS on Amazon Linux 1 and 2
# notebooks, 8888 being Jupyter's own default.
FALLBACK_URLS = ("https://127.0.0.1:8443", "http://127.0.0.1:8888", "https://127.0.0.1:8888")
_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


class JupyterError(Exception):
    """Jupyter answered in a shape this script does not know."""

    summary = "Jupyter's answer was not understood"


class JupyterUnreachableError(JupyterError):
    """No Jupyter answered (down, another port, refused the request)."""

    summary = "Jupyter did not answer"


_FETCH_ERRORS = (OSError, ValueError, http.client.HTTPException)


def parse_time(text: Any) -> datetime:
    """A Jupyter timestamp (`2026-01-02T03:04:05.123456Z`) as an aware UTC datetime."""
    match = _TIME.match(text.strip()) if isinstance(text, str) else None
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


def fetch(base_url: str, path: str, timeout: float, token: str | None = None) -> Any:
    """GET a Jupyter API path as JSON. Jupyter listens on loopback with a self-signed
    certificate, so TLS is not verified, and only for a loopback address (the token
    never leaves the instance)."""
    url = base_url.rstrip("/") + path
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname not in ("127.0.0.1", "localhost"):
        raise ValueError(f"Jupyter must be on loopback over http(s), not {base_url!r}")
    context = None
    if parts.scheme == "https":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback http(s) only, checked above
    with urllib.request.urlopen(request, timeout=timeout, context=context) as response:  # noqa: S310 - loopback http(s) only, checked above
        return json.loads(response.read().decode("utf-8"))


def server_files(runtime_dirs: list[str]) -> list[tuple[str, str | None]]:
    """(loopback URL, token) of each running Jupyter server that wrote its server file
    in one of `runtime_dirs`, newest first. A file whose process is gone is skipped."""
    found = []
    for folder in runtime_dirs:
        for path in glob.glob(os.path.join(folder, "*server-*.json")):
            try:
                with open(path, encoding="utf-8") as handle:
                    info = json.load(handle)
                port, pid = int(info["port"]), int(info.get("pid", 0))
                if pid and not os.path.exists(f"/proc/{pid}"):
                    continue
                scheme = "https" if info.get("secure") else "http"
                base = "/" + str(info.get("base_url") or "/").strip("/")
                url = f"{scheme}://127.0.0.1:{port}{base.rstrip('/')}"
                found.append((os.path.getmtime(path), url, info.get("token") or None))
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                continue
    return [(url, token) for _, url, token in sorted(found, reverse=True)]


def find_jupyter(
    runtime_dirs: list[str], fallback_urls: list[str], timeout: float
) -> tuple[str, str | None, dict[str, Any]]:
    """(URL, token, /api/status answer) of the first Jupyter that answers: those with a
    server file first, then the fallback URLs."""
    candidates = server_files(runtime_dirs) + [(url, None) for url in fallback_urls]
    problems = []
    for url, token in candidates:
        try:
            status = fetch(url, "/api/status", timeout, token)
        except _FETCH_ERRORS as err:
            problems.append(f"{url}: {err}")
            continue
        if not isinstance(status, dict):
            raise JupyterError(f"{url}/api/status answered {str(status)[:100]}, not an object")
        return url, token, status
    raise JupyterUnreachableError("; ".join(problems) or "no Jupyter to ask")


def read_jupyter(
    runtime_dirs: list[str], fallback_urls: list[str], timeout: float
) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]], str]:
    """(URL, kernels, terminals, Jupyter's start as it wrote it) with their shapes checked."""
    url, token, status = find_jupyter(runtime_dirs, fallback_urls, timeout)
    try:
        kernels = fetch(url, "/api/kernels", timeout, token)
        terminals = fetch(url, "/api/terminals", timeout, token)
    except _FETCH_ERRORS as err:
        raise JupyterUnreachableError(f"{url}: {err}") from None
    for what, items in (("/api/kernels", kernels), ("/api/terminals", terminals)):
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise JupyterError(f"{url}{what} answered {str(items)[:100]}, not a list of objects")
    started = status.get("started")
    try:
        parse_time(started)
    except ValueError as err:
        raise JupyterError(f"{url}/api/status: started is {err}") from None
    return url, kernels, terminals, str(started)


class Clock:
    """Times as Jupyter wrote them, never later than `now`.

    A time ahead of the instance's clock (a clock that was ahead, then corrected) counts
    from when a run first saw it: `ahead` maps each such text to that moment, so it ages
    like any other time instead of keeping the instance running until a restart."""

    def __init__(self, now: datetime, ahead: dict[str, str]) -> None:
        self.now = now
        self.ahead = ahead
        self.seen: dict[str, str] = {}

    def __call__(self, text: str) -> datetime:
        moment = parse_time(text)
        if moment <= self.now:
            return moment
        first = self.ahead.get(text, stamp(self.now))
        self.seen[text] = first
        try:
            return min(parse_time(first), self.now)
        except ValueError:
            return self.now


def decide(
    kernels: list[dict[str, Any]],
    terminals: list[dict[str, Any]],
    started: str,
    last_seen: datetime | None,
    clock: Clock,
    idle_minutes: int,
) -> tuple[bool, str, datetime]:
    """(stop?, reason, latest activity) for one look at Jupyter."""
    now = clock.now
    limit = timedelta(minutes=idle_minutes)
    latest = clock(started)
    if last_seen:
        latest = max(latest, min(last_seen, now))
    for kind, items in (("kernel", kernels), ("terminal", terminals)):
        for item in items:
            label = f"{kind} {item.get('name', '?')}" + (f" ({item['id']})" if "id" in item else "")
            state = item.get("execution_state")
            if kind == "kernel" and state not in QUIET_KERNEL_STATES:
                return False, f"{label} is {state}", now
            raw = item.get("last_activity")
            if not raw:
                return False, f"{label} reports no last activity", now
            try:
                latest = max(latest, clock(raw))
            except ValueError as err:
                raise JupyterError(f"{label}: last_activity is {err}") from None
    quiet = now - latest
    summary = f"{len(kernels)} kernel(s), {len(terminals)} terminal(s)"
    minutes = int(quiet.total_seconds() // 60)
    if quiet < limit:
        return False, f"{summary}; last activity {minutes} min ago (< {idle_minutes})", latest
    return True, f"{summary}; no activity for {minutes} min (>= {idle_minutes})", latest


def read_state(path: str) -> dict[str, Any]:
    """What earlier runs left (on the root volume: reset on restart): the latest activity
    they saw and how many runs in a row failed."""
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def last_activity(state: dict[str, Any], now: datetime) -> datetime | None:
    """The latest activity an earlier run saw (never later than `now`)."""
    try:
        return min(parse_time(state.get("last_activity")), now)
    except ValueError:
        return None


def write_state(path: str, state: dict[str, Any]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(state, handle)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def log_decision(region: str, group: str, stream: str, record: dict[str, Any]) -> None:
    """One JSON line to CloudWatch Logs, creating the stream on first use. A failure is
    reported on stdout and does not stop the decision from being carried out."""
    event = {"timestamp": int(time.time() * 1000), "message": json.dumps(record, sort_keys=True)}
    print(event["message"], flush=True)
    try:
        logs = boto3.client("logs", region_name=region)
        try:
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[event])
        except logs.exceptions.ResourceNotFoundException:
            with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
                logs.create_log_stream(logGroupName=group, logStreamName=stream)
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=[event])
    except Exception as err:  # logging must not prevent the stop
        print(json.dumps({"log_error": str(err)}), flush=True)


def run(
    args: argparse.Namespace, state: dict[str, Any], now: datetime
) -> tuple[dict[str, Any], bool]:
    """One look at Jupyter and what follows: (the decision's fields, whether the run
    failed to decide or act). Updates `state`."""
    ahead = state.get("ahead")
    clock = Clock(now, ahead if isinstance(ahead, dict) else {})
    try:
        url, kernels, terminals, started = read_jupyter(
            args.runtime_dir, args.jupyter_url or list(FALLBACK_URLS), args.timeout
        )
        stop, reason, latest = decide(
            kernels, terminals, started, last_activity(state, now), clock, args.idle_minutes
        )
    except JupyterError as err:
        return {"decision": "keep", "reason": f"{err.summary} ({err}); not stopping"}, True
    state["last_activity"] = stamp(latest)
    state["ahead"] = clock.seen
    if not stop:
        return {"decision": "keep", "reason": reason, "jupyter": url}, False
    sagemaker = boto3.client("sagemaker", region_name=args.region)
    status = sagemaker.describe_notebook_instance(NotebookInstanceName=args.notebook_name)[
        "NotebookInstanceStatus"
    ]
    if status != "InService":
        return {"decision": "keep", "reason": f"{reason}, but the instance is {status}"}, False
    try:
        sagemaker.stop_notebook_instance(NotebookInstanceName=args.notebook_name)
    except Exception as err:
        error = f"{type(err).__name__}: {err}"
        return {"decision": "stop-failed", "reason": reason, "error": error}, True
    return {"decision": "stop", "reason": reason, "jupyter": url}, False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Stop this notebook instance when idle.")
    parser.add_argument("--notebook-name", required=True)
    parser.add_argument("--idle-minutes", type=int, required=True)
    parser.add_argument("--log-group", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--runtime-dir", action="append", default=[])
    parser.add_argument("--jupyter-url", action="append", default=[])
    parser.add_argument("--state-file", default="/var/lib/smkit/idle-stop-state.json")
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args(argv)
    if not args.runtime_dir:
        custom = os.environ.get("JUPYTER_RUNTIME_DIR")
        args.runtime_dir = [custom, RUNTIME_DIR] if custom else [RUNTIME_DIR]

    record: dict[str, Any] = {"notebook": args.notebook_name, "idle_minutes": args.idle_minutes}
    state = read_state(args.state_file)
    try:
        fields, failed = run(args, state, datetime.now(timezone.utc))
        record.update(fields)
    except Exception as err:  # whatever happens, the run ends in one decision line
        record.update(decision="error", reason=f"idle stop failed: {type(err).__name__}: {err}")
        failed = True
    failures = state.get("consecutive_failures")
    failures = failures if isinstance(failures, int) and failures >= 0 else 0
    state["consecutive_failures"] = failures + 1 if failed else 0
    record["consecutive_failures"] = state["consecutive_failures"]
    try:
        write_state(args.state_file, state)
    except OSError as err:
        record["state_error"] = str(err)
    log_decision(args.region, args.log_group, args.notebook_name, record)
    return 1 if record["decision"] in ("stop-failed", "error") else 0


if __name__ == "__main__":
    sys.exit(main())
