"""The `ModelSource` a model setting describes, for stacks other than the inference stack
that build a model of their own (batch transform): the same image, artifact or package,
the same pull and read grants, the same image rules for packages of the platform's
registry."""

from __future__ import annotations

from aws_cdk import aws_s3 as s3

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.inference.model_source import ModelData, ModelSource

from .model_registry_stack import model_package_group_name
from .settings import PlatformSettings
from .settings.inference import (
    PROJECT_ROOT,
    ArtifactModelSettings,
    AssetImageSettings,
    BuiltinImageSettings,
    ImageSettings,
    ModelPackageSettings,
)
from .training_stack import image_of


def model_source(
    settings: PlatformSettings,
    model: ArtifactModelSettings | ModelPackageSettings,
    *,
    artifacts_bucket: s3.IBucket,
) -> ModelSource:
    """What `model` runs: an image with its artifact, or a model package whose image is
    the config's or, for a package of the platform's registry, its training definition's."""
    if isinstance(model, ArtifactModelSettings):
        data = (
            ModelData.from_uri(model.model_data)
            if model.model_data.startswith("s3://")
            else ModelData.from_bucket(artifacts_bucket, model.model_data)
        )
        return ModelSource.from_artifact(_image(model.image), data, environment=model.environment)
    if isinstance(model, ModelPackageSettings):
        image: ContainerImage | None = _image(model.image) if model.image else None
        if image is None and settings.training is not None:
            group = model.arn.split(":model-package/", 1)[-1].rsplit("/", 1)[0]
            for name, definition in settings.training.definitions.items():
                if model_package_group_name(settings, name) == group:
                    image = image_of(definition.model_package.image or definition.image)
        return ModelSource.from_model_package(
            model.arn,
            image=image,
            model_data_bucket=artifacts_bucket,
            model_data_prefix=model.model_data_prefix,
            environment=model.environment,
        )
    raise ValueError(
        f"a model of source {getattr(model, 'source', type(model).__name__)!r} cannot be built "
        "outside the inference stack"
    )


def _image(image: ImageSettings) -> ContainerImage:
    if isinstance(image, AssetImageSettings):
        return ContainerImage.from_asset(PROJECT_ROOT / image.directory)
    if isinstance(image, BuiltinImageSettings):
        return ContainerImage.from_builtin(image.algorithm)
    return ContainerImage.from_uri(image.uri)
