"""python -m tools.diagram OUTDIR [--output PREFIX] [--title TITLE]

Draws the assembly `cdk synth` wrote into OUTDIR to PREFIX.svg and PREFIX.png
(default docs/architecture), with Graphviz compiled to WebAssembly and resvg, run by
Node (npm packages pinned in package.json). Writes PREFIX.dot too, the graph's text.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from tools.assembly import AssemblyError, load_assembly

from .graph import build_graph

RENDERER = Path(__file__).with_name("render.mjs")


def render(dot: str, prefix: Path) -> None:
    """Lay out and draw `dot` into PREFIX.svg and PREFIX.png."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not on PATH (make diagram puts Node 24 from .venv first)")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(  # noqa: S603 - fixed script, our own arguments
        [node, str(RENDERER), str(prefix)],
        input=dot,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"rendering failed: {result.stderr.strip() or result.stdout.strip()}")


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.diagram", description=__doc__)
    parser.add_argument("outdir", type=Path, help="the synthesized assembly (cdk.out)")
    parser.add_argument("--output", type=Path, default=Path("docs/architecture"))
    parser.add_argument("--title", default="sagemaker-platform-kit: stacks and main resources")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        assembly = load_assembly(args.outdir)
    except AssemblyError as err:
        print(err, file=sys.stderr)
        return 1
    graph = build_graph(assembly)
    dot = graph.to_dot(args.title)
    try:
        render(dot, args.output)
    except RuntimeError as err:
        print(err, file=sys.stderr)
        return 1
    args.output.with_suffix(".dot").write_text(dot)
    print(
        f"{len(graph.nodes)} nodes, {len(graph.edges)} edges: wrote {args.output}.svg, "
        f"{args.output}.png and {args.output}.dot"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
