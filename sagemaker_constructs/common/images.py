"""Container images for SageMaker jobs and models, as value objects.

    ContainerImage.from_asset("containers/training")         built and pushed by `cdk deploy`
    ContainerImage.from_ecr_repository(repository, "v1")     an ECR repository you own
    ContainerImage.from_uri("123456789012.dkr.ecr...:v1")    any image URI
    ContainerImage.from_builtin("forecasting-deepar")        a SageMaker built-in algorithm
    ContainerImage.from_service("model-monitor")             an image SageMaker runs for its jobs

`bind(scope, grantee)` returns the image URI to put in a SageMaker request and lets
`grantee` (the SageMaker execution role) pull it. Built-in images resolve per region
through a CfnMapping, so stacks stay environment-agnostic; so do SageMaker's own service
images (Model Monitor's analyzer), from the same generated, drift-tested table.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from pathlib import Path

from aws_cdk import Aws, CfnMapping, Fn, Stack, Token
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from constructs import Construct

from .builtin_image_spec import BuiltinImageSpec
from .builtin_images_data import BUILTIN_IMAGES, SERVICE_IMAGES
from .execution_role import grant_image_pull
from .instance_types import describe_allowed

BUILTIN_MAPPING_ID = "SageMakerBuiltinImageRegistries"
_ECR_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/"
    r"(?P<repository>[a-z0-9._/-]+)(:[\w.-]+|@sha256:[0-9a-f]{64})$"
)


class ContainerImage(ABC):
    """An image SageMaker can run."""

    @staticmethod
    def from_asset(
        directory: str | Path,
        *,
        build_args: dict[str, str] | None = None,
        platform: ecr_assets.Platform = ecr_assets.Platform.LINUX_AMD64,
    ) -> ContainerImage:
        """A Dockerfile in `directory`, built and pushed to the CDK bootstrap repository
        by `cdk deploy` (synthesis does not need Docker)."""
        return _AssetImage(Path(directory), build_args or {}, platform)

    @staticmethod
    def from_ecr_repository(repository: ecr.IRepository, tag: str = "latest") -> ContainerImage:
        """An image in an ECR repository; the grantee may pull from that repository only."""
        return _RepositoryImage(repository, tag)

    @staticmethod
    def from_uri(uri: str) -> ContainerImage:
        """Any image URI. For an ECR image of this account the grantee may pull from that
        repository; other registries need no grant (AWS-owned) or are not for SageMaker."""
        if not Token.is_unresolved(uri) and not re.match(
            r"^[\w.-]+(:\d+)?/[\w./-]+([:@][\w.:-]+)?$", uri
        ):
            raise ValueError(
                f"image uri must look like <registry>/<repository>:<tag> (got {uri!r})"
            )
        return _UriImage(uri)

    @staticmethod
    def from_builtin(algorithm: str) -> ContainerImage:
        """A SageMaker built-in algorithm (`forecasting-deepar`, `xgboost`, ...), resolved
        per region at deploy time. AWS owns these images: no pull grant is needed."""
        if algorithm not in BUILTIN_IMAGES:
            raise ValueError(
                f"unknown built-in algorithm {algorithm!r}; "
                f"known: {describe_allowed(BUILTIN_IMAGES, limit=20)}"
            )
        return BuiltinImage(algorithm)

    @staticmethod
    def from_service(name: str) -> ContainerImage:
        """An image SageMaker runs for its own jobs (`model-monitor`: Model Monitor's
        analyzer), resolved per region at deploy time. AWS owns it: no pull grant."""
        if name not in SERVICE_IMAGES:
            raise ValueError(
                f"unknown SageMaker service image {name!r}; known: "
                f"{describe_allowed(SERVICE_IMAGES, limit=20)}"
            )
        return ServiceImage(name)

    @property
    @abstractmethod
    def description(self) -> str:
        """How the image is named in messages."""

    @abstractmethod
    def bind(self, scope: Construct, grantee: iam.IGrantable) -> str:
        """The image URI for a SageMaker request; lets `grantee` pull the image."""


class _AssetImage(ContainerImage):
    def __init__(
        self, directory: Path, build_args: dict[str, str], platform: ecr_assets.Platform
    ) -> None:
        if not (directory / "Dockerfile").is_file():
            raise ValueError(f"image asset directory {str(directory)!r} has no Dockerfile")
        self._directory = directory
        self._build_args = build_args
        self._platform = platform

    @property
    def description(self) -> str:
        return f"image built from {self._directory}"

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> str:
        # One asset per stack and directory, however many jobs or models use it.
        stack = Stack.of(scope)
        asset_id = f"ImageAsset{_digest(str(self._directory.resolve()), self._build_args)}"
        asset = stack.node.try_find_child(asset_id)
        if not isinstance(asset, ecr_assets.DockerImageAsset):
            asset = ecr_assets.DockerImageAsset(
                stack,
                asset_id,
                directory=str(self._directory),
                build_args=self._build_args or None,
                platform=self._platform,
                exclude=["**/__pycache__", "**/*.pyc", "tests"],
            )
        asset.repository.grant_pull(grantee)
        return asset.image_uri


class _RepositoryImage(ContainerImage):
    def __init__(self, repository: ecr.IRepository, tag: str) -> None:
        self._repository = repository
        self._tag = tag

    @property
    def description(self) -> str:
        return f"image {self._repository.repository_name}:{self._tag}"

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> str:
        self._repository.grant_pull(grantee)
        return self._repository.repository_uri_for_tag(self._tag)


class _UriImage(ContainerImage):
    def __init__(self, uri: str) -> None:
        self._uri = uri

    @property
    def description(self) -> str:
        return f"image {self._uri}"

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> str:
        match = _ECR_URI.match(self._uri) if not Token.is_unresolved(self._uri) else None
        if match:
            # An ECR image (this account's or a shared registry's, whose repository
            # policy must then admit us): the pull actions on that repository only.
            grant_image_pull(
                grantee,
                [
                    f"arn:{Aws.PARTITION}:ecr:{match.group('region')}:{match.group('account')}:"
                    f"repository/{match.group('repository')}"
                ],
            )
        return self._uri


class BuiltinImage(ContainerImage):
    """A SageMaker built-in algorithm image, resolved per region through a CfnMapping."""

    def __init__(self, algorithm: str) -> None:
        self.algorithm = algorithm
        self.spec = BUILTIN_IMAGES[algorithm]

    @property
    def description(self) -> str:
        return f"built-in algorithm {self.algorithm}"

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> str:
        return _regional_uri(scope, self.algorithm, self.spec, self.description)


class ServiceImage(ContainerImage):
    """An image SageMaker runs for its own jobs (Model Monitor's analyzer), resolved per
    region through the same CfnMapping as the built-in algorithms."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.spec = SERVICE_IMAGES[name]

    @property
    def description(self) -> str:
        return f"SageMaker service image {self.name}"

    def bind(self, scope: Construct, grantee: iam.IGrantable) -> str:
        return _regional_uri(scope, self.name, self.spec, self.description)


def _regional_uri(scope: Construct, name: str, spec: BuiltinImageSpec, description: str) -> str:
    """`<account>.dkr.ecr.<region>.<suffix>/<repository>[:<tag>]`, the account looked up per
    region in the stack's mapping (an image without a tag is the repository's latest)."""
    stack = Stack.of(scope)
    if not Token.is_unresolved(stack.region) and stack.region not in spec.accounts:
        raise ValueError(
            f"{description} has no image in region {stack.region}; available in: "
            + ", ".join(sorted(spec.accounts))
        )
    key = re.sub(r"[^A-Za-z0-9]", "", name)
    mapping = _builtin_mapping(stack)
    for region, account in spec.accounts.items():
        mapping.set_value(region, key, account)
    account = mapping.find_in_map(Aws.REGION, key)
    tag = f":{spec.tag}" if spec.tag else ""
    return Fn.join(
        "",
        [account, ".dkr.ecr.", Aws.REGION, ".", Aws.URL_SUFFIX, f"/{spec.repository}{tag}"],
    )


def _digest(*parts: object) -> str:
    """A short, stable fingerprint for construct IDs (Python's hash() varies per run)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:8]


def _builtin_mapping(stack: Stack) -> CfnMapping:
    existing = stack.node.try_find_child(BUILTIN_MAPPING_ID)
    if isinstance(existing, CfnMapping):
        return existing
    return CfnMapping(stack, BUILTIN_MAPPING_ID, mapping={})
