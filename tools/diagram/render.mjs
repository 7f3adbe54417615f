// Render a Graphviz DOT graph (stdin) to SVG and PNG, with no system packages:
// Graphviz compiled to WebAssembly (@hpcc-js/wasm-graphviz) and resvg (@resvg/resvg-js).
//
//   node tools/diagram/render.mjs OUTPUT_PREFIX < graph.dot   writes OUTPUT_PREFIX.svg and .png
import { readFileSync, writeFileSync } from "node:fs";
import { Graphviz } from "@hpcc-js/wasm-graphviz";
import { Resvg } from "@resvg/resvg-js";

const prefix = process.argv[2];
if (!prefix) {
  console.error("usage: node render.mjs OUTPUT_PREFIX < graph.dot");
  process.exit(2);
}
const dot = readFileSync(0, "utf8");
const graphviz = await Graphviz.load();
let svg;
try {
  svg = graphviz.dot(dot, "svg");
} catch (err) {
  console.error(`Graphviz could not lay out the graph: ${err.message ?? err}`);
  process.exit(1);
}
writeFileSync(`${prefix}.svg`, svg);
// Text needs a font: the system's sans-serif (DejaVu Sans on Debian and Ubuntu).
const png = new Resvg(svg, {
  fitTo: { mode: "zoom", value: 1.5 },
  background: "white",
  font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
}).render().asPng();
writeFileSync(`${prefix}.png`, png);
console.log(`Graphviz ${graphviz.version()}: wrote ${prefix}.svg and ${prefix}.png`);
