"""The synth review (`make review`): per stack, resources by type, IAM permissions with
wildcards flagged, cdk-nag acknowledgements, an estimated monthly cost, and with a
base assembly the resources a change adds, removes and replaces."""
