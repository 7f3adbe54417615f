"""Runtime code of the inference constructs: Lambda handlers (plain Python + boto3)."""
