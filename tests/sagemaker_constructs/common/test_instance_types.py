"""Which endpoint instance types have local NVMe storage (SageMaker refuses a KMS key there)."""

from __future__ import annotations

import pytest

from sagemaker_constructs.common import has_local_nvme_storage


@pytest.mark.parametrize(
    "instance_type",
    [
        "ml.g4dn.xlarge",
        "ml.g5.2xlarge",
        "ml.g6e.xlarge",
        "ml.m5d.large",
        "ml.c6gd.xlarge",
        "ml.r7gd.medium",
        "ml.p3dn.24xlarge",
        "ml.p4de.24xlarge",
        "ml.p5en.48xlarge",
        "ml.p6-b200.48xlarge",
        "ml.trn1n.32xlarge",
    ],
)
def test_instance_types_with_local_nvme(instance_type: str) -> None:
    assert has_local_nvme_storage(instance_type)


@pytest.mark.parametrize(
    "instance_type",
    [
        "ml.m5.xlarge",
        "ml.c5.large",
        "ml.c6gn.xlarge",
        "ml.c7i.xlarge",
        "ml.m8i-flex.large",
        "ml.p3.2xlarge",
        "ml.inf2.xlarge",
        "ml.t2.medium",
        "not-an-instance",
    ],
)
def test_instance_types_with_ebs_storage(instance_type: str) -> None:
    assert not has_local_nvme_storage(instance_type)
