"""Maintenance scripts: regenerate the committed tables the kit derives from
botocore and the SageMaker SDK (tests fail while they are stale)."""
