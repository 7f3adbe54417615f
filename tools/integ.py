"""The integration cases in tests/integ/: snapshot checks offline, and deploy -> assert ->
destroy on a real account, the way integ-runner runs them, on the kit's pinned CDK CLI.

    python -m tools.integ snapshot [--update] [CASE...]   offline: compare (or rewrite) snapshots
    python -m tools.integ run [--update] [--keep] [CASE...] online: deploy, assert, destroy

Why not integ-runner itself: its newest release (npm @aws-cdk/integ-runner 2.197.10)
bundles a toolkit that reads cloud assemblies up to schema 53, and aws-cdk-lib 2.275
writes schema 55, so it refuses every case, snapshot checks included ("Cloud assembly
schema version mismatch: Maximum schema version supported is 53.x.x, but found 55.0.0").
This module does what integ-runner does, with the same files, so that the cases move
to integ-runner unchanged once a release reads schema 55:

- discovery: `integ_*.py` under tests/integ (integ-runner's Python preset), each an app
  whose `IntegTest` writes `integ.json` into its assembly;
- snapshots: `<case>.py.snapshot/` beside the case, holding the templates, asset
  manifests, `manifest.json` and `integ.json` (not asset sources: the update workflow
  is off). The check compares each stack of each test case (not the assertion stack,
  which differs at every synthesis), with asset hashes replaced by `Asset<n>` unless
  the case sets `diff_assets`, exactly as integ-runner's `IntegSnapshotRunner` does;
- a run: `cdk deploy` of each test case's stacks, then of its assertion stack with
  `--no-rollback --outputs-file`, the `AssertionResults*` outputs read as results, and
  `cdk destroy --all --force` whatever happened. Before destroying, the runner empties
  the buckets of the case's stacks (the kit's buckets are versioned; CloudFormation
  deletes only empty ones) and deletes the model package versions the runs registered
  (it deletes only empty model package groups).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

KIT = Path(__file__).resolve().parents[1]
CASES_DIR = KIT / "tests" / "integ"
CASE_FILE = re.compile(r"^integ_.*\.py$")
"""integ-runner's Python preset: the files it discovers as cases."""
SNAPSHOT_SUFFIX = ".snapshot"
SNAPSHOT_ENV = {"CDK_INTEG_ACCOUNT": "12345678", "CDK_INTEG_REGION": "test-region"}
"""What integ-runner sets when it synthesizes a snapshot, so that no case depends on the
account of whoever runs it."""
SNAPSHOT_FILES = ("manifest.json", "integ.json", "cdk.out")
SNAPSHOT_PATTERNS = ("*.template.json", "*.assets.json")
RESULTS_DIR = KIT / "integ-results"
CDK = ("npx", "--no-install", "cdk")
PREFLIGHT_UNKNOWN = (5, 6)
"""`smkit preflight` exit codes for checks it could not make (a read denied, an AWS error)."""


class IntegError(Exception):
    """The run cannot go on; the message says why and what to do."""


# --- cases and snapshots -------------------------------------------------------------------


def discover(names: Sequence[str] = ()) -> list[Path]:
    """The case files, sorted; `names` (file names, with or without `.py`) picks some."""
    found = sorted(p for p in CASES_DIR.rglob("integ_*.py") if CASE_FILE.match(p.name))
    if not names:
        return found
    by_name = {p.name: p for p in found} | {p.stem: p for p in found}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise IntegError(
            f"no integration case named {', '.join(missing)}; the cases are "
            + ", ".join(p.stem for p in found)
        )
    return [by_name[n] for n in names]


def snapshot_dir(case: Path) -> Path:
    """Where a case's snapshot lives: `<case>.py.snapshot/` beside it (integ-runner's)."""
    return case.with_name(case.name + SNAPSHOT_SUFFIX)


def synthesize(case: Path, outdir: Path, *, env: Mapping[str, str] | None = None) -> None:
    """Run the case as an app into `outdir` (what `cdk synth -a "python <case>"` does)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CDK_")}
    environment.update({"CDK_OUTDIR": str(outdir), **(env or {})})
    result = subprocess.run(  # noqa: S603 - the case is the kit's own file
        [sys.executable, case.name],
        cwd=case.parent,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not (outdir / "manifest.json").is_file():
        raise IntegError(f"{case.name} did not synthesize:\n{result.stderr[-4000:]}")


def write_snapshot(assembly: Path, snapshot: Path) -> list[str]:
    """Replace `snapshot` with the snapshot files of `assembly`; returns their names."""
    if snapshot.exists():
        shutil.rmtree(snapshot)
    snapshot.mkdir(parents=True)
    names = [n for n in SNAPSHOT_FILES if (assembly / n).is_file()]
    names += sorted({p.name for pattern in SNAPSHOT_PATTERNS for p in assembly.glob(pattern)})
    for name in names:
        text = (assembly / name).read_text()
        # One form whatever wrote it: sorted keys would reorder resources, so only the
        # indentation and the final line break are normalized.
        if name.endswith(".json"):
            text = json.dumps(json.loads(text), indent=1) + "\n"
        (snapshot / name).write_text(text)
    return names


@dataclass(frozen=True)
class TestCaseSpec:
    """One test case of `integ.json`: its stacks and assertion stack."""

    name: str
    stacks: list[str]
    assertion_stack: str | None
    diff_assets: bool = False


def test_cases(assembly: Path) -> list[TestCaseSpec]:
    """The test cases the assembly's `integ.json` declares."""
    path = assembly / "integ.json"
    if not path.is_file():
        raise IntegError(f"{assembly} holds no integ.json: is the case an IntegTest?")
    manifest = json.loads(path.read_text())
    return [
        TestCaseSpec(
            name=name,
            stacks=list(spec.get("stacks", [])),
            assertion_stack=spec.get("assertionStackName"),
            diff_assets=bool(spec.get("diffAssets", False)),
        )
        for name, spec in manifest.get("testCases", {}).items()
    ]


def compare(expected: Path, actual: Path) -> list[str]:
    """How the assembly `actual` differs from the snapshot `expected`, one message per
    template (empty: the same), by integ-runner's rules."""
    if not (expected / "integ.json").is_file():
        return [f"{expected.name} does not exist: write it with the snapshot update"]
    problems: list[str] = []
    old_cases = {c.name: c for c in test_cases(expected)}
    new_cases = {c.name: c for c in test_cases(actual)}
    for name in sorted(old_cases.keys() - new_cases.keys()):
        problems.append(f"test case {name} exists in the snapshot, but not in the case")
    for name, case in new_cases.items():
        old = old_cases.get(name)
        if old is None:
            problems.append(f"test case {name} does not exist in the snapshot")
            continue
        # Like integ-runner, the test case's stacks only: an assertion stack changes with
        # every synthesis (each AwsApiCall carries a fresh `salt`).
        old_stacks, new_stacks = old.stacks, case.stacks
        for stack in sorted(set(old_stacks) - set(new_stacks)):
            problems.append(f"{stack} exists in the snapshot, but not in the case")
        for stack in new_stacks:
            if stack not in old_stacks:
                problems.append(f"{stack} does not exist in the snapshot, but does in the case")
                continue
            before = _template(expected, stack)
            after = _template(actual, stack)
            if not case.diff_assets:
                before = canonical(before, asset_ids(expected, stack))
                after = canonical(after, asset_ids(actual, stack))
            differences = template_differences(before, after)
            if differences:
                problems.append(f"{stack}: snapshot changed\n" + "\n".join(differences))
    return problems


def _template(assembly: Path, stack: str) -> dict[str, Any]:
    path = assembly / f"{stack}.template.json"
    if not path.is_file():
        raise IntegError(f"{path} is missing")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def asset_ids(assembly: Path, stack: str) -> list[str]:
    """The IDs (source hashes) of a stack's file and image assets."""
    path = assembly / f"{stack}.assets.json"
    if not path.is_file():
        return []
    manifest = json.loads(path.read_text())
    return [*manifest.get("files", {}), *manifest.get("dockerImages", {})]


def canonical(template: Any, assets: Iterable[str]) -> Any:
    """`template` with each asset hash replaced by `Asset<n>` (n in order of the asset
    manifest), so that a change of a Lambda's code alone is not a snapshot change."""
    substitutions = [(asset, f"Asset{index}") for index, asset in enumerate(assets, start=1)]

    def text(value: str) -> str:
        for asset, name in substitutions:
            value = value.replace(asset, name)
        return value

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {text(k): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return text(value)
        return value

    return walk(template)


def template_differences(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Resources and other sections added, removed or changed, one line each with the
    path of the first changed value: `[~] AWS::S3::Bucket DataBucket (Properties/...)`."""
    lines = []
    for section in sorted(set(before) | set(after)):
        old, new = before.get(section), after.get(section)
        if old == new:
            continue
        if section != "Resources" or not isinstance(old, dict) or not isinstance(new, dict):
            lines.append(f"[~] {section} ({_first_difference(old, new, section)})")
            continue
        for logical_id in sorted(set(old) | set(new)):
            was, now = old.get(logical_id), new.get(logical_id)
            kind = (now or was or {}).get("Type", "?")
            if was is None:
                lines.append(f"[+] {kind} {logical_id}")
            elif now is None:
                lines.append(f"[-] {kind} {logical_id}")
            elif was != now:
                lines.append(f"[~] {kind} {logical_id} ({_first_difference(was, now, '')})")
    return lines


def _first_difference(old: Any, new: Any, path: str) -> str:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            if old.get(key) != new.get(key):
                return _first_difference(old.get(key), new.get(key), f"{path}/{key}")
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for index, (a, b) in enumerate(zip(old, new, strict=True)):
            if a != b:
                return _first_difference(a, b, f"{path}/{index}")
    return f"{path.lstrip('/') or '/'}: {_short(old)} -> {_short(new)}"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if value is not None else "(none)"
    return text if len(text) <= 120 else text[:117] + "..."


def check_snapshots(cases: Sequence[Path], *, update: bool) -> int:
    """`snapshot`: synthesize each case and compare (or rewrite) its snapshot."""
    failed = 0
    for case in cases:
        with tempfile.TemporaryDirectory(prefix=f"{case.stem}.") as tmp:
            outdir = Path(tmp) / "cdk.out"
            synthesize(case, outdir, env=SNAPSHOT_ENV)
            snapshot = snapshot_dir(case)
            if update:
                write_snapshot(outdir, snapshot)
                print(f"  UPDATED    {case.stem}: {snapshot.relative_to(KIT)}")
                continue
            problems = compare(snapshot, outdir)
            if problems:
                failed += 1
                print(f"  CHANGED    {case.stem}")
                for problem in problems:
                    print("    " + problem.replace("\n", "\n    "))
            else:
                print(f"  UNCHANGED  {case.stem}")
    if failed:
        print(
            f"{failed} snapshot(s) changed. If the change is intended, run the cases "
            "(make integ UPDATE=1) or rewrite the snapshots offline "
            "(make integ-snapshots) and commit them."
        )
    return 1 if failed else 0


# --- a run on AWS ----------------------------------------------------------------------------


NO_CREDENTIALS = (
    "make integ deploys the integration cases to a real AWS account and needs credentials "
    "for a sandbox account: {why}. Set AWS_PROFILE (or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY) and AWS_REGION, then run it again (docs/integration-tests.md)."
)


def check_credentials(session: Any) -> tuple[str, str]:
    """(account, region) of the session, or IntegError saying what is missing."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    region = session.region_name
    if not region:
        raise IntegError(NO_CREDENTIALS.format(why="no region is set"))
    if session.get_credentials() is None:
        raise IntegError(NO_CREDENTIALS.format(why="no credentials were found"))
    try:
        identity = session.client("sts").get_caller_identity()
    except NoCredentialsError:
        raise IntegError(NO_CREDENTIALS.format(why="no credentials were found")) from None
    except (ClientError, BotoCoreError) as err:
        raise IntegError(NO_CREDENTIALS.format(why=f"AWS refused them ({err})")) from None
    return str(identity["Account"]), str(region)


def needs_docker(assembly: Path) -> bool:
    """Whether any stack of the assembly has a Docker image asset to build."""
    return any(
        json.loads(path.read_text()).get("dockerImages") for path in assembly.glob("*.assets.json")
    )


def check_docker() -> None:
    """IntegError unless a Docker daemon answers (image assets are built locally)."""
    try:
        result = subprocess.run(
            ["docker", "info"],  # noqa: S607 - the user's Docker, as `cdk deploy` uses it
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        result = None
    if result is None or result.returncode != 0:
        raise IntegError(
            "this case builds Docker images (containers/training, containers/inference) "
            "and no Docker daemon answers `docker info`: start Docker and run it again"
        )


def empty_buckets(cloudformation: Any, s3: Any, stacks: Iterable[str]) -> list[str]:
    """Delete every object version and delete marker from the buckets of `stacks`, so
    that `cdk destroy` can delete them. Returns the buckets emptied."""
    emptied = []
    for stack in stacks:
        buckets = _stack_buckets(cloudformation, stack)
        for bucket in buckets:
            if _empty_bucket(s3, bucket):
                emptied.append(bucket)
    return emptied


def delete_model_packages(cloudformation: Any, sagemaker: Any, stacks: Iterable[str]) -> list[str]:
    """Delete the model package versions the runs registered in the model package groups
    of `stacks` (CloudFormation deletes only empty groups). Returns their ARNs."""
    deleted = []
    for stack in stacks:
        for group in _stack_resources(cloudformation, stack, "AWS::SageMaker::ModelPackageGroup"):
            pages = sagemaker.get_paginator("list_model_packages").paginate(
                ModelPackageGroupName=group
            )
            for page in pages:
                for package in page["ModelPackageSummaryList"]:
                    sagemaker.delete_model_package(ModelPackageName=package["ModelPackageArn"])
                    deleted.append(package["ModelPackageArn"])
    return deleted


def _stack_buckets(cloudformation: Any, stack: str) -> list[str]:
    return _stack_resources(cloudformation, stack, "AWS::S3::Bucket")


def _stack_resources(cloudformation: Any, stack: str, resource_type: str) -> list[str]:
    """Physical IDs of a stack's resources of one type; none when the stack is gone."""
    from botocore.exceptions import ClientError

    found: list[str] = []
    try:
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack)
        for page in pages:
            found.extend(
                r["PhysicalResourceId"]
                for r in page["StackResourceSummaries"]
                if r["ResourceType"] == resource_type and r.get("PhysicalResourceId")
            )
    except ClientError as err:
        if "does not exist" in str(err):
            return []
        raise
    return found


def _empty_bucket(s3: Any, bucket: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
        for page in pages:
            objects = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
            ]
            for first in range(0, len(objects), 1000):
                s3.delete_objects(
                    Bucket=bucket, Delete={"Objects": objects[first : first + 1000], "Quiet": True}
                )
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "NoSuchBucket":
            return False
        raise
    return True


def assertion_results(outputs_file: Path, assertion_stack: str) -> dict[str, dict[str, str]]:
    """The `AssertionResults*` outputs of the assertion stack, by output name (what
    integ-runner's `processAssertionResults` reads)."""
    if not outputs_file.is_file():
        return {}
    outputs = json.loads(outputs_file.read_text()).get(assertion_stack, {})
    results = {}
    for name, value in outputs.items():
        if name.startswith("AssertionResults"):
            try:
                result = json.loads(value.replace("\n", "\\n"))
            except ValueError:
                result = {"status": "fail", "message": f"unreadable result: {value!r}"}
            if result.get("status") in ("success", "fail"):
                results[name] = result
    return results


@dataclass
class CaseResult:
    """What happened to one case on AWS."""

    case: str
    status: str = "failed"
    """passed, failed (an assertion failed) or error (deploy or destroy failed)."""
    seconds: float = 0.0
    assertions: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    emptied_buckets: list[str] = field(default_factory=list)
    deleted_model_packages: list[str] = field(default_factory=list)
    destroyed: bool = False


def cdk(*args: str) -> None:
    """Run the pinned CDK CLI; IntegError when it fails."""
    command = [*CDK, *args]
    print("  $ " + " ".join(command), flush=True)
    result = subprocess.run(command, cwd=KIT, check=False)  # noqa: S603
    if result.returncode != 0:
        raise IntegError(f"`{' '.join(command)}` failed (exit {result.returncode})")


def run_case(case: Path, workdir: Path, session: Any, *, update: bool, keep: bool) -> CaseResult:
    """Deploy, assert and destroy one case; the snapshot is rewritten only on success."""
    result = CaseResult(case=case.stem)
    started = time.monotonic()
    assembly = workdir / f"{case.stem}.out"
    specs: list[TestCaseSpec] = []
    try:
        synthesize(case, assembly)
        specs = test_cases(assembly)
        if needs_docker(assembly):
            check_docker()
        preflight(case, assembly)
        for spec in specs:
            cdk("deploy", "--app", str(assembly), "--require-approval", "never", *spec.stacks)
            if spec.assertion_stack:
                outputs = workdir / f"{case.stem}.assertion-results.json"
                cdk(
                    "deploy",
                    "--app",
                    str(assembly),
                    "--require-approval",
                    "never",
                    "--exclusively",
                    "--no-rollback",
                    "--outputs-file",
                    str(outputs),
                    spec.assertion_stack,
                )
                result.assertions.update(assertion_results(outputs, spec.assertion_stack))
        failed = [n for n, r in result.assertions.items() if r["status"] == "fail"]
        result.status = "failed" if failed else "passed"
    except IntegError as err:
        result.status = "error"
        result.errors.append(str(err))
    finally:
        if not keep and (assembly / "manifest.json").is_file():
            result.destroyed = _destroy(result, session, assembly, specs)
    if result.status == "passed" and update:
        with tempfile.TemporaryDirectory() as tmp:
            synthesize(case, Path(tmp) / "cdk.out", env=SNAPSHOT_ENV)
            write_snapshot(Path(tmp) / "cdk.out", snapshot_dir(case))
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _destroy(result: CaseResult, session: Any, assembly: Path, specs: list[TestCaseSpec]) -> bool:
    stacks = [s for spec in specs for s in spec.stacks]
    try:
        cloudformation = session.client("cloudformation")
        result.emptied_buckets = empty_buckets(cloudformation, session.client("s3"), stacks)
        result.deleted_model_packages = delete_model_packages(
            cloudformation, session.client("sagemaker"), stacks
        )
        cdk("destroy", "--app", str(assembly), "--all", "--force")
    except Exception as err:
        result.status = "error"
        result.errors.append(f"destroy: {err}; delete the stacks {', '.join(stacks)} by hand")
        return False
    return True


def preflight(case: Path, assembly: Path) -> None:
    """`smkit preflight` with the case's config, against the case's assembly."""
    sys.path.insert(0, str(KIT))
    module = _load_case_module(case)
    config = getattr(module, "CONFIG", None)
    if not isinstance(config, str):
        return
    import textwrap

    config_file = assembly.parent / f"{case.stem}.config.yaml"
    config_file.write_text(textwrap.dedent(config))
    command = [sys.executable, "-m", "smkit_cli", "--config", str(config_file)]
    command += ["preflight", "--assembly", str(assembly)]
    print("  $ " + " ".join(command), flush=True)
    code = subprocess.run(command, cwd=KIT, check=False).returncode  # noqa: S603
    # 5 and 6: some reads were denied or failed (the integration role may read little);
    # only a failed check stops the case.
    if code in PREFLIGHT_UNKNOWN:
        print(f"  preflight could not check everything (exit {code}); going on", flush=True)
    elif code != 0:
        raise IntegError(f"smkit preflight failed for {case.stem}: see its findings above")


def _load_case_module(case: Path) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"integ_case_{case.stem}", case)
    if spec is None or spec.loader is None:
        raise IntegError(f"cannot load {case}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(cases: Sequence[Path], *, update: bool, keep: bool, results_dir: Path) -> int:
    """`run`: every case in turn; writes `<results_dir>/results.json`."""
    import boto3

    # AWS_REGION too (the CDK CLI reads it; boto3 reads only AWS_DEFAULT_REGION).
    session = boto3.Session(region_name=os.environ.get("AWS_REGION") or None)
    account, region = check_credentials(session)
    print(f"Integration cases in account {account}, {region}: {', '.join(c.stem for c in cases)}")
    results_dir.mkdir(parents=True, exist_ok=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="integ.") as tmp:
        for case in cases:
            print(f"\n== {case.stem}", flush=True)
            result = run_case(case, Path(tmp), session, update=update, keep=keep)
            results.append(result)
            print(f"  {result.status.upper()} {case.stem} in {result.seconds:.0f} s")
            for name, outcome in result.assertions.items():
                print(f"    {outcome['status']:8} {name} {outcome.get('message', '')}")
            for error in result.errors:
                print(f"    error: {error}")
    (results_dir / "results.json").write_text(
        json.dumps(
            {"account": account, "region": region, "cases": [asdict(r) for r in results]},
            indent=2,
        )
        + "\n"
    )
    return 0 if all(r.status == "passed" for r in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.integ", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    snapshot = commands.add_parser("snapshot", help="compare the snapshots (offline)")
    snapshot.add_argument("--update", action="store_true", help="rewrite them instead")
    snapshot.add_argument("cases", nargs="*", help="case names (default: all)")
    online = commands.add_parser("run", help="deploy, assert and destroy (AWS credentials)")
    online.add_argument("--update", action="store_true", help="update snapshots that pass")
    online.add_argument("--keep", action="store_true", help="do not destroy (debugging)")
    online.add_argument("--results", type=Path, default=RESULTS_DIR, help="results folder")
    online.add_argument("cases", nargs="*", help="case names (default: all)")
    args = parser.parse_args(argv)
    try:
        cases = discover(args.cases)
        if args.command == "snapshot":
            return check_snapshots(cases, update=args.update)
        return run(cases, update=args.update, keep=args.keep, results_dir=args.results)
    except IntegError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
