"""Runtime code of Model Monitor (plain Python and boto3)."""
