"""Where an endpoint's model comes from, as value objects.

    ModelSource.from_artifact(image, ModelData.from_uri("s3://bucket/model.tar.gz"))
    ModelSource.from_artifact(image, ModelData.from_bucket(artifacts_bucket, "models/x.tar.gz"))
    ModelSource.from_model_package("arn:aws:sagemaker:...:model-package/group/3", ...)

`bind(scope, role)` returns the container definition of `AWS::SageMaker::Model` and
grants the execution role what the container needs to start: read the model artifact
and pull the image.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping

from aws_cdk import Aws, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from ..common import BuiltinImage, ContainerImage

_S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
MODEL_PACKAGE_ARN = re.compile(
    r"^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:model-package/[A-Za-z0-9-]{1,63}/\d+$"
)
"""A versioned model package (one version of a model package group)."""


class ModelData(ABC):
    """A model artifact (`model.tar.gz`) in S3."""

    @staticmethod
    def from_bucket(bucket: s3.IBucket, key: str) -> ModelData:
        """An object of a bucket of this app (the artifacts bucket, typically)."""
        return _BucketModelData(bucket, key)

    @staticmethod
    def from_uri(uri: str) -> ModelData:
        """Any `s3://bucket/key.tar.gz` URI."""
        return _UriModelData(uri)

    @property
    @abstractmethod
    def uri(self) -> str:
        """The `s3://` URI of the artifact."""

    @property
    @abstractmethod
    def key(self) -> str:
        """The object key (checked to end in .tar.gz)."""

    @abstractmethod
    def grant_read(self, grantee: iam.IGrantable) -> None:
        """Let `grantee` read the artifact, and nothing else of its bucket."""


class _BucketModelData(ModelData):
    def __init__(self, bucket: s3.IBucket, key: str) -> None:
        self._bucket = bucket
        self._key = key

    @property
    def uri(self) -> str:
        return self._bucket.s3_url_for_object(self._key)

    @property
    def key(self) -> str:
        return self._key

    def grant_read(self, grantee: iam.IGrantable) -> None:
        _grant_get(self._bucket, self._key, grantee)


class _UriModelData(ModelData):
    def __init__(self, uri: str) -> None:
        match = _S3_URI.match(uri)
        if not match:
            raise ValueError(f"model data must be an s3://bucket/key URI (got {uri!r})")
        self._uri = uri
        self._bucket_name = match.group("bucket")
        self._key = match.group("key")

    @property
    def uri(self) -> str:
        return self._uri

    @property
    def key(self) -> str:
        return self._key

    def grant_read(self, grantee: iam.IGrantable) -> None:
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["s3:GetObject"],
            resource_arns=[f"arn:{Aws.PARTITION}:s3:::{self._bucket_name}/{self._key}"],
        )


class ModelSource(ABC):
    """What `AWS::SageMaker::Model` runs: an image with a model artifact, or a model
    package from the model registry."""

    @staticmethod
    def from_artifact(
        image: ContainerImage,
        model_data: ModelData,
        *,
        environment: Mapping[str, str] | None = None,
    ) -> ModelSource:
        """`image` serving the artifact `model_data` (a .tar.gz SageMaker unpacks into
        /opt/ml/model). `environment`: the container's variables. Default: none."""
        return _ArtifactSource(image, model_data, dict(environment or {}))

    @staticmethod
    def from_model_package(
        model_package_arn: str,
        *,
        image: ContainerImage | None = None,
        model_data_bucket: s3.IBucket | None = None,
        model_data_prefix: str = "",
        environment: Mapping[str, str] | None = None,
    ) -> ModelSource:
        """A versioned model package (`arn:...:model-package/<group>/<version>`): its
        inference specification names the image and the artifact.

        :param image: The image the package names, so the role may pull it. Default:
            none (AWS-owned built-in images need no grant). A built-in image also tells
            the endpoint which algorithm it serves (DeepAR runs on CPUs only).
        :param model_data_bucket: Bucket holding the package's artifact; the role may
            read `model_data_prefix*` in it. Default: none.
        :param model_data_prefix: Key prefix of the artifacts. Default: the whole bucket.
        :param environment: The container's variables. Default: none.
        """
        return _PackageSource(
            model_package_arn,
            image,
            model_data_bucket,
            model_data_prefix,
            dict(environment or {}),
        )

    @property
    @abstractmethod
    def image(self) -> ContainerImage | None:
        """The image, where known."""

    @property
    def algorithm(self) -> str | None:
        """The built-in algorithm served (`forecasting-deepar`...), None for other images."""
        return self.image.algorithm if isinstance(self.image, BuiltinImage) else None

    @abstractmethod
    def problems(self) -> list[str]:
        """What is wrong with this source, one sentence each."""

    @abstractmethod
    def bind(
        self, scope: Construct, role: iam.IGrantable
    ) -> sagemaker.CfnModel.ContainerDefinitionProperty:
        """The model's container definition; grants `role` what starting it needs."""

    @property
    @abstractmethod
    def read_resources(self) -> list[str]:
        """S3 resources the role may read, to name in cdk-nag acknowledgements."""


class _ArtifactSource(ModelSource):
    def __init__(
        self, image: ContainerImage, model_data: ModelData, environment: dict[str, str]
    ) -> None:
        self._image = image
        self._model_data = model_data
        self._environment = environment

    @property
    def image(self) -> ContainerImage:
        return self._image

    @property
    def read_resources(self) -> list[str]:
        return []

    def problems(self) -> list[str]:
        key = self._model_data.key
        if Token.is_unresolved(key) or key.endswith(".tar.gz"):
            return []
        return [f"model data must be a .tar.gz archive (got key {key!r})"]

    def bind(
        self, scope: Construct, role: iam.IGrantable
    ) -> sagemaker.CfnModel.ContainerDefinitionProperty:
        self._model_data.grant_read(role)
        return sagemaker.CfnModel.ContainerDefinitionProperty(
            image=self._image.bind(scope, role),
            model_data_url=self._model_data.uri,
            mode="SingleModel",
            environment=self._environment or None,
        )


class _PackageSource(ModelSource):
    def __init__(
        self,
        arn: str,
        image: ContainerImage | None,
        bucket: s3.IBucket | None,
        prefix: str,
        environment: dict[str, str],
    ) -> None:
        self._arn = arn
        self._image = image
        self._bucket = bucket
        self._prefix = prefix
        self._environment = environment

    @property
    def image(self) -> ContainerImage | None:
        return self._image

    @property
    def read_resources(self) -> list[str]:
        return [self._bucket.arn_for_objects(f"{self._prefix}*")] if self._bucket else []

    def problems(self) -> list[str]:
        if Token.is_unresolved(self._arn) or MODEL_PACKAGE_ARN.match(self._arn):
            return []
        return [
            "model_package_arn must be a versioned model package, arn:aws:sagemaker:"
            f"<region>:<account>:model-package/<group>/<version> (got {self._arn!r})"
        ]

    def bind(
        self, scope: Construct, role: iam.IGrantable
    ) -> sagemaker.CfnModel.ContainerDefinitionProperty:
        # The package names its own image: binding one here only grants the pull. A
        # built-in image is AWS's (nothing to grant), and binding it would emit its region
        # mapping, which nothing in the template reads (cfn-lint W7001).
        if self._image is not None and not isinstance(self._image, BuiltinImage):
            self._image.bind(scope, role)
        if self._bucket is not None:
            _grant_get(self._bucket, f"{self._prefix}*", role)
        return sagemaker.CfnModel.ContainerDefinitionProperty(
            model_package_name=self._arn,
            environment=self._environment or None,
        )


def _grant_get(bucket: s3.IBucket, key_pattern: str, grantee: iam.IGrantable) -> None:
    """s3:GetObject on matching keys only (SageMaker downloads the artifact, nothing
    more), and decryption with the bucket's key."""
    iam.Grant.add_to_principal(
        grantee=grantee,
        actions=["s3:GetObject"],
        resource_arns=[bucket.arn_for_objects(key_pattern)],
    )
    if bucket.encryption_key is not None:
        bucket.encryption_key.grant(grantee, "kms:Decrypt")
