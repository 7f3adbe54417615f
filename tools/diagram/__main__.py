"""python -m tools.diagram OUTDIR [--output-dir DIR]

Draws the assembly `cdk synth` wrote into OUTDIR (`make diagram`: the full example config)
into DIR (default docs/diagrams): `overview` (the stacks in deploy order and the main flow,
for the README) and one picture per stack (its resources and what it uses of the others,
for the docs), each as NAME.dot (the graph's text), NAME.svg and NAME.png. Graphviz compiled
to WebAssembly and resvg, run by Node (npm packages pinned in package.json), draw them.

Each SVG and PNG carries the digest of the DOT text and of the renderer it was drawn from,
so a test can tell a stale picture without drawing it again (fonts differ between
machines; the DOT text does not).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path

from tools.assembly import Assembly, AssemblyError, load_assembly

from .graph import build_graph, view_rankdir
from .overview import overview_dot, unit_of

RENDERER = Path(__file__).with_name("render.mjs")
DIGEST_KEY = "smkit-diagram-source"
OVERVIEW_TITLE = "sagemaker-platform-kit: stacks and the main flow"


def diagrams(assembly: Assembly) -> dict[str, str]:
    """File name (without suffix) -> DOT text of every picture of `assembly`."""
    found = {"overview": overview_dot(assembly, OVERVIEW_TITLE)}
    graph = build_graph(assembly)
    for stack in assembly:
        view = graph.stack_view(stack.name)
        title = f"{unit_of(stack)} stack: its main resources, and what they use of other stacks"
        found[file_name(unit_of(stack))] = view.to_dot(
            title, focus=stack.name, rankdir=view_rankdir(view)
        )
    return found


def file_name(unit: str) -> str:
    """`ModelRegistry` -> `model-registry`, `GitHubDeploy` -> `github-deploy`."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "-", unit.replace("GitHub", "Github")).lower()


def source_digest(dot: str) -> str:
    """What a picture is drawn from: the DOT text and the renderer's code."""
    return hashlib.sha256(RENDERER.read_bytes() + b"\0" + dot.encode()).hexdigest()


def render(dot: str, prefix: Path) -> None:
    """Lay out and draw `dot` into PREFIX.svg and PREFIX.png, each marked with
    `source_digest(dot)`."""
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
    digest = source_digest(dot)
    svg = prefix.with_suffix(".svg")
    svg.write_text(mark_svg(svg.read_text(), digest))
    png = prefix.with_suffix(".png")
    png.write_bytes(mark_png(png.read_bytes(), digest))


def mark_svg(svg: str, digest: str) -> str:
    """`svg` with a comment naming its source digest after the XML declaration."""
    declaration_end = svg.index("?>") + 2 if svg.startswith("<?xml") else 0
    comment = f"\n<!-- {DIGEST_KEY}: {digest} -->"
    return svg[:declaration_end] + comment + svg[declaration_end:]


def svg_digest(svg: str) -> str | None:
    match = re.search(rf"<!-- {DIGEST_KEY}: ([0-9a-f]{{64}}) -->", svg)
    return match.group(1) if match else None


def mark_png(png: bytes, digest: str) -> bytes:
    """`png` with a tEXt chunk naming its source digest right after the header chunk."""
    ihdr_end = 8 + 8 + 13 + 4  # signature, IHDR length and type, its data, its CRC
    data = DIGEST_KEY.encode("latin-1") + b"\0" + digest.encode("latin-1")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + data) & 0xFFFFFFFF)
    return png[:ihdr_end] + chunk + png[ihdr_end:]


def png_digest(png: bytes) -> str | None:
    position = 8
    while position + 8 <= len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        data = png[position + 8 : position + 8 + length]
        if kind == b"tEXt" and data.startswith(DIGEST_KEY.encode() + b"\0"):
            return data.split(b"\0", 1)[1].decode("latin-1")
        if kind == b"IDAT":
            return None
        position += 12 + length
    return None


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.diagram", description=__doc__)
    parser.add_argument("outdir", type=Path, help="the synthesized assembly (cdk.out)")
    parser.add_argument("--output-dir", type=Path, default=Path("docs/diagrams"))
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        assembly = load_assembly(args.outdir)
    except AssemblyError as err:
        print(err, file=sys.stderr)
        return 1
    pictures = diagrams(assembly)
    try:
        for name, dot in pictures.items():
            render(dot, args.output_dir / name)
            (args.output_dir / f"{name}.dot").write_text(dot)
    except RuntimeError as err:
        print(err, file=sys.stderr)
        return 1
    print(f"{len(pictures)} pictures: wrote {', '.join(pictures)} into {args.output_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
