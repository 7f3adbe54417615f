"""The commands of `smkit`, one module per area."""
