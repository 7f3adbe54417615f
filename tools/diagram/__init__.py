"""The architecture picture (`make diagram`): the synthesized app's stacks, main
resources and how they connect, rendered to SVG and PNG without system packages."""
