"""Reusable L3 constructs of the SageMaker platform, one package per area.

Constructs know nothing of the config file: they take typed keyword-only
arguments with secure defaults and validate them, naming every problem at once.
"""
