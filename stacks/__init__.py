"""Deployable units of the platform: one stack per lifecycle, wired from settings."""
