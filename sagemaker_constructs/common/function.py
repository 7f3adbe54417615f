"""The kit's Lambda function: Python, JSON logs into an encrypted log group, a role
with no managed policies."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .retention import retention_days, retention_problem
from .validation import Problems

RUNTIME = lambda_.Runtime.PYTHON_3_14
"""The newest Python runtime aws-cdk-lib knows (cdk-nag's AwsSolutions-L1 wants it)."""


class PythonFunction(Construct):
    """A Python Lambda function whose code is one folder of the repository.

    - The handler folder is the whole deployment package: plain Python and boto3
      (the runtime provides boto3), importable and testable without CDK.
    - Logs are JSON (Lambda's advanced logging: the stdlib `logging` module writes
      structured records, no extra library needed) in a log group of its own,
      encrypted with `encryption_key`, kept for `log_retention_days`.
    - The role starts with only the right to write to that log group; callers add
      what the function needs with grants.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        code_dir: str | Path,
        description: str,
        encryption_key: kms.IKey,
        handler: str = "handler.handler",
        environment: Mapping[str, str] | None = None,
        timeout: Duration = Duration.minutes(1),
        memory_size: int = 256,
        log_retention_days: int = 365,
        reserved_concurrent_executions: int | None = None,
    ) -> None:
        """
        :param code_dir: Folder whose files form the deployment package.
        :param description: What the function does (shown in the console). At most 256 characters.
        :param encryption_key: Key of the log group and of the environment variables.
        :param handler: `module.function` inside code_dir. Default: handler.handler.
        :param environment: Environment variables. Default: none.
        :param timeout: Default: 1 minute. Valid range: 1 second - 15 minutes.
        :param memory_size: MB. Default: 256. Valid range: 128-10240.
        :param log_retention_days: Default: 365. One of CloudWatch Logs' retention periods.
        :param reserved_concurrent_executions: Cap on parallel runs. Default: none.
        """
        super().__init__(scope, id_)
        problems = Problems("PythonFunction")
        code_path = Path(code_dir)
        module = handler.rsplit(".", 1)[0].replace(".", "/")
        problems.check(
            (code_path / f"{module}.py").is_file(),
            f"handler {handler!r} needs {code_path / (module + '.py')}, which does not exist",
        )
        problems.check(
            len(description) <= 256,
            f"description must be at most 256 characters (got {len(description)})",
        )
        seconds = timeout.to_seconds()
        problems.check(1 <= seconds <= 900, f"timeout must be 1-900 seconds (got {seconds})")
        problems.check(
            128 <= memory_size <= 10240, f"memory_size must be 128-10240 MB (got {memory_size})"
        )
        retention = retention_problem(log_retention_days)
        problems.check(retention is None, retention or "")
        problems.raise_if_any()

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=encryption_key,
            retention=retention_days(log_retention_days),
            removal_policy=RemovalPolicy.RETAIN,
        )
        """The function's log group."""

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description[:1000],
        )
        """The execution role: log writing only, until grants add more."""
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )

        self.function = lambda_.Function(
            self,
            "Function",
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            code=lambda_.Code.from_asset(
                str(code_path), exclude=["__pycache__", "*.pyc", "tests", "*.md"]
            ),
            handler=handler,
            description=description,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            timeout=timeout,
            memory_size=memory_size,
            environment=dict(environment or {}),
            environment_encryption=encryption_key,
            reserved_concurrent_executions=reserved_concurrent_executions,
        )
        """The Lambda function."""
        # Lambda decrypts the environment variables with the function's role.
        encryption_key.grant_decrypt(self.role)
