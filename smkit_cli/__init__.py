"""`smkit`, the operator CLI of a deployed platform.

It reads the deployment from the same config file the CDK app is built from (`--config`)
and from the CloudFormation outputs of its stacks, then starts and follows labeling,
training and tuning workflows, calls endpoints and opens notebooks.

Only the settings model (`stacks.settings`), the plain boto3 client helpers
(`sagemaker_constructs.inference.client`) and the approval rules the model approval
workflow applies (`sagemaker_constructs.inference.runtime.promotion.versions`) are
imported: never aws-cdk-lib, so no Node.js process starts and every command answers
quickly.
"""
