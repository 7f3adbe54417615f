"""The deployed platform as the CLI sees it: the settings of the config file, and the
CloudFormation outputs of the stacks built from it (read once per command)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

from stacks.settings import ConfigError, PlatformSettings, load_settings

from .aws import Aws, error_code
from .errors import CliError, ExitCode

# The tag every resource of a deployment carries (stacks.platform.PLATFORM_TAG; that
# module builds stacks, which the CLI never imports).
PLATFORM_TAG = "smkit:platform"

# Statuses in which a stack has no usable outputs, with what to do about it.
UNUSABLE_STATUSES = {
    "CREATE_IN_PROGRESS": "wait for its first deployment to finish",
    "REVIEW_IN_PROGRESS": "its change set has not been executed: deploy it",
    "CREATE_FAILED": "its first deployment failed: see the stack's events, then deploy again",
    "ROLLBACK_IN_PROGRESS": "its first deployment failed and is being rolled back",
    "ROLLBACK_FAILED": "its first deployment failed: see the stack's events, delete it and "
    "deploy again",
    "ROLLBACK_COMPLETE": "its first deployment failed: see the stack's events, delete it and "
    "deploy again",
    "DELETE_IN_PROGRESS": "it is being deleted",
    "DELETE_FAILED": "its deletion failed: see the stack's events",
}


def load(config: str) -> PlatformSettings:
    """The settings of a config file, or a CONFIG error listing every problem."""
    try:
        return load_settings(config)
    except ConfigError as err:
        raise CliError(str(err), ExitCode.CONFIG) from None


def pascal(name: str) -> str:
    """`demand-forecast` -> `DemandForecast`, as the stacks name their outputs."""
    return "".join(part.capitalize() for part in name.split("-"))


class Workflow(NamedTuple):
    """One workflow (state machine) the config deploys."""

    kind: str
    """`labeling`, `auto-labeling`, `training` or `tuning`."""
    name: str
    """Its name in the config."""
    unit: str
    """The stack unit that outputs its ARN."""
    output: str
    """The output key of its state machine's ARN."""


class Deployment:
    """One deployment: settings, account and stack outputs."""

    def __init__(self, settings: PlatformSettings, config: str, aws: Aws) -> None:
        self.settings = settings
        self.config = config
        self.aws = aws
        self._outputs: dict[str, dict[str, str]] = {}
        self._parameters: dict[str, dict[str, str]] = {}
        self._account: str | None = None
        self.stack_statuses: dict[str, str] = {}
        """CloudFormation status of each stack read so far, by unit."""

    @property
    def prefix(self) -> str:
        """`name_prefix` of the config."""
        return self.settings.name_prefix

    @property
    def deploy_hint(self) -> str:
        """The command that deploys this config."""
        return f"Deploy it with `make deploy CONFIG={self.config}`."

    @property
    def account(self) -> str:
        """The account of the credentials, which must be the config's (if it names one)."""
        if self._account is None:
            identity = self.aws.client("sts").get_caller_identity()
            account = str(identity["Account"])
            wanted = self.settings.account
            if wanted is not None and wanted != account:
                raise CliError(
                    f"{self.config} deploys to account {wanted}, but the credentials are for "
                    f"account {account} ({identity['Arn']})",
                    ExitCode.CREDENTIALS,
                    hint="Use credentials of the config's account (AWS_PROFILE or --profile).",
                )
            self._account = account
        return self._account

    def where(self) -> str:
        """`account 123456789012, us-east-1`."""
        return f"account {self.account}, {self.aws.region}"

    def outputs(self, unit: str) -> dict[str, str]:
        """The outputs of stack `<prefix>-<unit>`; NOT_DEPLOYED unless it is usable."""
        if unit in self._outputs:
            return self._outputs[unit]
        name = self.settings.stack_name(unit)
        where = self.where()
        try:
            stacks = self.aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"]
        except ClientError as err:
            if error_code(err) == "ValidationError" and "does not exist" in str(err):
                raise CliError(
                    f"stack {name} is not deployed in {where}",
                    ExitCode.NOT_DEPLOYED,
                    hint=self.deploy_hint,
                ) from None
            raise
        status = str(stacks[0]["StackStatus"])
        self.stack_statuses[unit] = status
        if status in UNUSABLE_STATUSES:
            raise CliError(
                f"stack {name} is {status} in {where}: {UNUSABLE_STATUSES[status]}",
                ExitCode.NOT_DEPLOYED,
            )
        outputs = {str(o["OutputKey"]): str(o["OutputValue"]) for o in stacks[0].get("Outputs", [])}
        self._outputs[unit] = outputs
        self._parameters[unit] = {
            str(p["ParameterKey"]): str(p.get("ParameterValue", ""))
            for p in stacks[0].get("Parameters", [])
        }
        return outputs

    def parameters(self, unit: str) -> dict[str, str]:
        """The parameter values of stack `<prefix>-<unit>` (read with its outputs)."""
        self.outputs(unit)
        return self._parameters[unit]

    def output(self, unit: str, key: str) -> str:
        """One output of stack `<prefix>-<unit>`."""
        outputs = self.outputs(unit)
        if key not in outputs:
            raise CliError(
                f"stack {self.settings.stack_name(unit)} has no output {key}: it was deployed "
                f"from another config or another version of the kit",
                ExitCode.NOT_DEPLOYED,
                hint=f"Deploy {self.config} again with `make deploy CONFIG={self.config}`.",
            )
        return outputs[key]

    def section(self, name: str, what: str) -> Any:
        """Settings section `name`, or NOT_DEPLOYED when the config has none."""
        value = getattr(self.settings, name)
        if value is None:
            raise CliError(
                f"{self.config} has no `{name}` section, so it deploys no {what}",
                ExitCode.NOT_DEPLOYED,
                hint="Pass the config the platform was deployed from: smkit --config <file> ...",
            )
        return value

    def workflows(self, *kinds: str) -> list[Workflow]:
        """Every workflow of the config (of `kinds`, if given), as the stacks output them."""
        found = []
        labeling = self.settings.labeling
        if labeling is not None:
            for flow in labeling.workflows:
                key = f"LabelingWorkflow{pascal(flow.name)}Arn"
                found.append(Workflow("labeling", flow.name, "Labeling", key))
            for auto in labeling.auto_labeling:
                key = f"AutoLabeling{pascal(auto.name)}Arn"
                found.append(Workflow("auto-labeling", auto.name, "Labeling", key))
        training = self.settings.training
        if training is not None:
            for name in training.definitions:
                key = f"{pascal(name)}TrainingStateMachineArn"
                found.append(Workflow("training", name, "Training", key))
            for name in training.tuning:
                key = f"{pascal(name)}TuningStateMachineArn"
                found.append(Workflow("tuning", name, "Training", key))
        return [w for w in found if not kinds or w.kind in kinds]

    # --- names given on the command line ----------------------------------------------------

    def pick(self, kind: str, given: str, names: Iterable[str]) -> str:
        """The configured name `given` stands for: the name itself or `<prefix>-<name>`."""
        known = list(names)
        for name in known:
            if given in (name, f"{self.prefix}-{name}"):
                return name
        raise CliError(
            f"no {kind} {given!r} in {self.config}; configured: {', '.join(known) or 'none'}",
            ExitCode.USAGE,
        )

    def endpoint_name(self, given: str) -> str:
        """The deployed name of endpoint `given` (its key in the config or its name)."""
        inference = self.section("inference", "endpoints")
        key = self.pick("endpoint", given, inference.endpoints)
        return self.output("Inference", f"{pascal(key)}EndpointName")

    def notebook_name(self, given: str) -> str:
        """The instance name of notebook `given` (its name in the config or the instance's)."""
        notebooks = self.section("notebooks", "notebook instances")
        name = self.pick("notebook", given, [n.name for n in notebooks.instances])
        self.outputs("Notebooks")
        return f"{self.prefix}-{name}"
