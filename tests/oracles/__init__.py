"""Offline oracles every change is checked against (see ARCHITECTURE.md):
template synthesis once per session, cdk-nag, cfn-lint, and botocore's service
model for hand-written SageMaker requests in state machines."""
