"""The labeling workflow's input check."""
