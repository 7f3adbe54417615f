"""The kit's text classifier: SageMaker training side.

Importing this package (or `metrics`, `hyperparameters`, `environment`) does not import
torch: the contract constants can be read by tools and tests without it.
"""
