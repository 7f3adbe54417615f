"""The `ModelSource` a model setting describes, for every stack that builds a model
(endpoints, batch transform): the same image, artifact or package, the same pull and read
grants, the same image rules for packages of the platform's registry."""

from __future__ import annotations

from aws_cdk import aws_s3 as s3

from sagemaker_constructs.common import ContainerImage
from sagemaker_constructs.inference.model_source import ModelData, ModelSource

from .model_registry_stack import model_package_group_name
from .settings import PlatformSettings
from .settings import training as training_settings
from .settings.inference import (
    PROJECT_ROOT,
    ArtifactModelSettings,
    AssetImageSettings,
    BuiltinImageSettings,
    ImageSettings,
    ModelPackageSettings,
    UriImageSettings,
)
from .training_stack import image_of


def model_source(
    settings: PlatformSettings,
    model: ArtifactModelSettings | ModelPackageSettings,
    *,
    artifacts_bucket: s3.IBucket,
    where: str,
) -> ModelSource:
    """What `model` (configured at `where`, e.g. `inference.endpoints.demand`) runs: an
    image with its artifact, or a model package with its image (`package_image`)."""
    if isinstance(model, ArtifactModelSettings):
        data = (
            ModelData.from_uri(model.model_data)
            if model.model_data.startswith("s3://")
            else ModelData.from_bucket(artifacts_bucket, model.model_data)
        )
        return ModelSource.from_artifact(
            container_image(model.image), data, environment=model.environment
        )
    return ModelSource.from_model_package(
        model.arn,
        image=package_image(settings, model, where=where),
        model_data_bucket=artifacts_bucket,
        model_data_prefix=model.model_data_prefix,
        environment=model.environment,
    )


def package_image(
    settings: PlatformSettings, model: ModelPackageSettings, *, where: str
) -> ContainerImage | None:
    """The image of a model package: the config's, or, for a package of this platform's
    registry, the one its training definition registers. The model's role may then pull
    it, and a built-in algorithm's serving rules apply (DeepAR serves on CPUs only,
    ENDPOINT-8); a `model.image` that is not that image is refused (ENDPOINT-17)."""
    registered = _registered_image(settings, model.arn)
    if registered is None:
        return container_image(model.image) if model.image else None
    definition, image = registered
    if model.image is not None and _describe(model.image) != _describe(image):
        raise ValueError(
            f"{where}.model.image: {_describe(model.image)} is not the image of {model.arn}, "
            f"which training definition {definition} registers with {_describe(image)}; "
            "remove model.image (the kit takes the definition's) or fix it"
        )
    return image_of(image)


def container_image(image: ImageSettings) -> ContainerImage:
    """The image an inference image setting names."""
    if isinstance(image, AssetImageSettings):
        return ContainerImage.from_asset(PROJECT_ROOT / image.directory)
    if isinstance(image, BuiltinImageSettings):
        return ContainerImage.from_builtin(image.algorithm)
    return ContainerImage.from_uri(image.uri)


def _registered_image(
    settings: PlatformSettings, arn: str
) -> tuple[str, training_settings.ImageSettings] | None:
    """(definition, image) of the training definition whose model package group the ARN
    names, where the platform trains it."""
    training = settings.training
    group = arn.split(":model-package/", 1)[-1].rsplit("/", 1)[0]
    for name, definition in (training.definitions if training else {}).items():
        if model_package_group_name(settings, name) == group:
            return name, definition.model_package.image or definition.image
    return None


def _describe(image: ImageSettings | training_settings.ImageSettings) -> str:
    """An image setting of either section, as a reader names it."""
    if isinstance(image, BuiltinImageSettings | training_settings.BuiltinImage):
        return f"built-in {image.algorithm}"
    if isinstance(image, AssetImageSettings | training_settings.AssetImage):
        return f"asset {image.directory}"
    assert isinstance(image, UriImageSettings | training_settings.UriImage)
    return f"image {image.uri}"
