"""A notebook's on-start script rendered with concrete values, and the files it embeds."""

from __future__ import annotations

import base64
import gzip
import re
from collections.abc import Sequence

from sagemaker_constructs.foundation import NetworkPlacement
from sagemaker_constructs.notebooks import Kernel, PackageSources, sdk_defaults
from sagemaker_constructs.notebooks.scripts import OnStartScript, on_start_script
from sagemaker_constructs.notebooks.sdk_config import to_yaml

NOTEBOOK = "demo-alice"
REGION = "us-east-1"
LOG_GROUP = f"/smkit/notebooks/{NOTEBOOK}/idle-stop"
JOB_ROLE_ARN = "arn:aws:iam::123456789012:role/demo-Notebooks-JobRoleA8EE24A2-AbCdEfGhIjKl"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
BUCKET = "demo-foundation-artifactsbucket-abcdef123456"
NETWORK = NetworkPlacement(
    vpc_id="vpc-0123456789abcdef0",
    subnet_ids=("subnet-0123456789abcdef0", "subnet-0123456789abcdef1"),
    security_group_ids=("sg-0123456789abcdef0",),
)
TAGS = {"Project": "sagemaker-platform-kit", "smkit:platform": "demo", "Owner": "alice@example.com"}
KERNELS = (
    Kernel(name="sklearn", conda_packages=("scikit-learn=1.5", "pandas")),
    Kernel(
        name="pytorch",
        python="3.11",
        pip_packages=("torch==2.5.1", "transformers[torch]>=4.40"),
        display_name="PyTorch 2.5",
    ),
)


def defaults_yaml(network: NetworkPlacement | None = NETWORK) -> str:
    return to_yaml(
        sdk_defaults(
            job_role_arn=JOB_ROLE_ARN,
            bucket_name=BUCKET,
            key_prefix=f"notebooks/{NOTEBOOK}",
            kms_key_id=KEY_ARN,
            network=network,
            tags=TAGS,
        )
    )


def render(
    *,
    kernels: Sequence[Kernel] = KERNELS,
    idle_minutes: int | None = 60,
    sources: PackageSources | None = None,
    network: NetworkPlacement | None = NETWORK,
) -> OnStartScript:
    return on_start_script(
        sdk_defaults_yaml=defaults_yaml(network),
        notebook_name=NOTEBOOK,
        region=REGION,
        idle_minutes=idle_minutes,
        log_group_name=LOG_GROUP if idle_minutes is not None else None,
        kernels=kernels,
        sources=sources or PackageSources(),
        bounds={},
    )


def heredoc(script: str, terminator: str) -> str:
    """The body of the quoted heredoc ending in `terminator`."""
    match = re.search(rf"<<'{terminator}'[^\n]*\n(.*?)\n{terminator}\n", script, flags=re.DOTALL)
    assert match, f"no heredoc {terminator} in the script"
    return match.group(1)


def embedded_idle_stop(script: str) -> str:
    """The idle-stop Python source the script writes to the instance."""
    packed = base64.b64decode(heredoc(script, "SMKIT_IDLE_STOP_PY"))
    return gzip.decompress(packed).decode("utf-8")
