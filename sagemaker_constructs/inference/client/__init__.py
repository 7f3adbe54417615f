"""Clients of the kit's endpoints: plain Python and boto3, no CDK, no pandas.

The operator CLI and Lambda handlers import these modules directly
(`sagemaker_constructs.inference.client.deepar`...); nothing here imports aws_cdk, so
they load fast and run where only boto3 is installed.

- `runtime`: invoke an endpoint with JSON (real time) or through S3 (async).
- `deepar`: DeepAR request builder, response parser and client (mean, quantiles, samples).
- `classifier`: the text classifier's contract (`{"instances": [{"source": ...}]}` in,
  label / confidence / probabilities out) and client.
"""
