"""The private workforce's custom resources."""
