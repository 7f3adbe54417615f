"""Runtime code of the labeling constructs: Lambda handlers (plain Python + boto3)."""
