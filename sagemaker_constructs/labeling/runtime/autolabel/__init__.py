"""Auto-labeling with a user-set confidence threshold: one module per step."""
