"""The GitHub Actions workflows: actionlint and shellcheck find nothing, every action
is pinned to a full commit SHA with its release in a comment, CI publishes the synth
review, and the deploy workflow uses OIDC, environments and one deploy per environment
at a time."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.oracles.workflows import (
    COMMIT_SHA,
    RELEASE,
    WORKFLOWS,
    actionlint,
    load,
    pins,
    run_steps,
    shellcheck_findings,
    uses,
    workflow_files,
)

CI = WORKFLOWS / "ci.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
BROKEN = (
    "on: push\n"
    "jobs:\n"
    "  build:\n"
    "    runs-on: ubuntu-24.04\n"
    "    steps:\n"
    "      - uses: actions/setup-python@a26af69be951a213d495a4c3e4e4022e16d87065 # v5.6.0\n"
    "        with:\n"
    "          pyton-version: '3.12'\n"
    "      - run: echo ${{ github.event.pull_request.title }}\n"
    "      - run: echo ${{ steps.nothing.outputs.x }}\n"
)


@pytest.fixture(scope="module")
def findings(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """actionlint over the workflows and a broken one, in one run (it takes seconds)."""
    tmp = tmp_path_factory.mktemp("actionlint")
    broken = tmp / "broken.yml"
    broken.write_text(BROKEN)
    return actionlint([*workflow_files(), broken], tmp)


def test_actionlint_finds_nothing_in_the_workflows(findings: list[str]) -> None:
    assert {p.name for p in workflow_files()} >= {"ci.yml", "deploy.yml"}
    assert [f for f in findings if "broken.yml" not in f] == []


def test_actionlint_catches_a_broken_workflow(findings: list[str]) -> None:
    text = "\n".join(f for f in findings if "broken.yml" in f)
    # The input check comes from the copy whose SHA pin became its major version (@v5).
    assert 'major-broken.yml:8:11: input "pyton-version" is not defined' in text
    assert "potentially untrusted" in text
    assert 'property "nothing" is not defined' in text


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_run_scripts_pass_shellcheck(path: Path) -> None:
    problems = [
        f"{job} / {name}: {finding}"
        for job, name, script in run_steps(load(path))
        for finding in shellcheck_findings(script)
    ]
    assert problems == []


def test_shellcheck_oracle_reports_an_unquoted_variable() -> None:
    assert any("SC2086" in f for f in shellcheck_findings("cat $RUNNER_TEMP/file\n"))


def _unpinned(path: Path) -> list[str]:
    """`uses:` lines not pinned to a full commit SHA with a release (`# v1.2.3`) comment."""
    return [
        f"{action}@{ref} # {version}"
        for action, ref, version in pins(path)
        if not COMMIT_SHA.match(ref) or version is None or not RELEASE.match(version)
    ]


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_sha_with_its_release_in_a_comment(
    path: Path,
) -> None:
    # GitHub's security hardening guide: a tag can be moved, a full commit SHA cannot.
    found = pins(path)
    assert len(found) == len(uses(load(path))) > 0
    assert _unpinned(path) == []


def test_pin_check_refuses_tags_short_shas_and_missing_versions(tmp_path: Path) -> None:
    workflow = tmp_path / "tags.yml"
    workflow.write_text(
        "jobs:\n"
        "  build:\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4.2.2\n"
        "      - uses: actions/checkout@11bd719 # v4.2.2\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4\n"
        "      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n"
    )
    assert _unpinned(workflow) == [
        "actions/checkout@v4.2.2 # None",
        "actions/checkout@11bd719 # v4.2.2",
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # None",
        "actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4",
    ]


def test_one_release_of_an_action_has_one_commit_across_workflows() -> None:
    commits: dict[tuple[str, str | None], set[str]] = {}
    for path in workflow_files():
        for action, ref, version in pins(path):
            commits.setdefault((action, version), set()).add(ref)
    assert {key: refs for key, refs in commits.items() if len(refs) > 1} == {}


def test_ci_reviews_the_full_config_against_the_base_branch_and_publishes_it() -> None:
    review = load(CI)["jobs"]["review"]
    steps = {step.get("name", step.get("uses")): step for step in review["steps"]}
    assert review["steps"][0]["with"]["fetch-depth"] == 0
    base = steps["Synthesize the base branch"]
    assert base["if"] == "github.event_name == 'pull_request'"
    assert 'git worktree add "$RUNNER_TEMP/base" "origin/$BASE_REF"' in base["run"]
    # The base's own config: make -C takes a relative CONFIG from the checkout it runs in.
    assert 'CONFIG="$RUNNER_TEMP/base/config/examples/full.yaml"' in base["run"]
    run = steps["Review the full config"]
    assert run["run"].startswith("make review ")
    assert "CONFIG=config/examples/full.yaml OUT=cdk.out.full" in run["run"]
    assert 'BASE="$BASE"' in run["run"]
    assert "steps.base.outcome == 'success'" in run["env"]["BASE"]
    assert (
        'review.md >> "$GITHUB_STEP_SUMMARY"'
        in steps["Publish the review as the job summary"]["run"]
    )
    artifact = next(
        step for name, step in steps.items() if name.startswith("actions/upload-artifact@")
    )["with"]
    assert artifact["path"] == "cdk.out.full"


def test_deploy_runs_on_main_and_by_hand_with_config_and_environment() -> None:
    workflow = load(DEPLOY)
    assert workflow["on"]["push"] == {"branches": ["main"]}
    inputs = workflow["on"]["workflow_dispatch"]["inputs"]
    assert inputs["config"]["type"] == "string"
    assert inputs["environment"]["type"] == "choice"
    assert inputs["environment"]["options"] == ["dev", "prod"]
    assert workflow["permissions"] == {"contents": "read"}


def test_deploy_assumes_a_role_through_oidc_with_no_stored_keys() -> None:
    workflow = load(DEPLOY)
    job = workflow["jobs"]["deploy"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    credentials = next(
        s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws")
    )
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert credentials["with"]["aws-region"] == "${{ vars.AWS_REGION }}"
    text = DEPLOY.read_text()
    assert "secrets." not in text
    assert "aws-access-key-id" not in text


def test_deploy_uses_environments_and_never_overlaps_in_one() -> None:
    job = load(DEPLOY)["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.environment || 'dev' }}"
    assert job["concurrency"] == {
        "group": "deploy-${{ inputs.environment || 'dev' }}",
        "cancel-in-progress": False,
    }


def test_deploy_diffs_then_deploys_every_stack_without_a_prompt() -> None:
    steps = load(DEPLOY)["jobs"]["deploy"]["steps"]
    names = [s.get("name", s.get("uses")) for s in steps]
    assert names.index("cdk diff") < names.index("Pre-deploy check") < names.index("cdk deploy")
    credentials = next(
        i for i, n in enumerate(names) if n.startswith("aws-actions/configure-aws-credentials@")
    )
    assert credentials < names.index("cdk diff")
    runs = {s.get("name"): s.get("run", "") for s in steps}
    assert "cdk diff --all --app cdk.out" in runs["cdk diff"]
    assert runs["Pre-deploy check"] == ".venv/bin/python -m tools.predeploy cdk.out"
    # Version parameters a stack lacks start with the version approvals would choose; the
    # ones it has are never passed, so cdk deploy keeps them (docs/model-approval.md).
    assert runs["cdk deploy"].splitlines() == [
        'parameters="$(.venv/bin/python -m tools.deploy_parameters cdk.out)"',
        'read -ra arguments <<< "$parameters"',
        "npx --no-install cdk deploy --all --app cdk.out --require-approval never "
        '"${arguments[@]}"',
    ]
    assert (
        'make synth PYTHON=python CONFIG="$CONFIG"' in runs["Synthesize (checks the config first)"]
    )


INTEG = WORKFLOWS / "integ.yml"


def test_integ_runs_by_hand_and_weekly_with_the_deploy_role_of_the_integ_environment() -> None:
    workflow = load(INTEG)
    assert set(workflow["on"]) == {"workflow_dispatch", "schedule"}
    assert workflow["on"]["workflow_dispatch"]["inputs"]["cases"]["type"] == "string"
    (schedule,) = workflow["on"]["schedule"]
    assert schedule["cron"] == "0 5 * * 1"
    assert workflow["permissions"] == {"contents": "read"}
    job = workflow["jobs"]["integ"]
    assert job["environment"] == "integ"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    credentials = next(
        s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws")
    )
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "secrets." not in INTEG.read_text()


def test_integ_runs_make_integ_once_per_account_and_uploads_the_results() -> None:
    job = load(INTEG)["jobs"]["integ"]
    # The role ARN names the account: one run per account, none cancelled half way.
    assert job["concurrency"] == {
        "group": "integ-${{ vars.AWS_DEPLOY_ROLE_ARN }}",
        "cancel-in-progress": False,
    }
    runs = {s.get("name"): s for s in job["steps"]}
    assert runs["make integ"]["run"] == 'make integ PYTHON=python CASES="$CASES"'
    assert runs["make integ"]["env"] == {"CASES": "${{ inputs.cases }}"}
    upload = next(
        s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")
    )
    assert upload["if"] == "always()"
    assert upload["with"]["path"] == "integ-results"
