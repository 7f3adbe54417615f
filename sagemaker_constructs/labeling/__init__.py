"""Ground Truth labeling: private workforce and work teams, labeling workflows, and
auto-labeling with a user-set confidence threshold.

Import from the modules (`sagemaker_constructs.labeling.workforce`, ...). This package
file imports nothing, so the settings model can use the CDK-free `task_types` table
without loading aws-cdk-lib.
"""
