// Builds ../static/tenders/age.min.js: the age-encryption package and what it needs, bundled with esbuild
// into one classic script (global `ebAge`), with the licences of every bundled package in its header.
// Developers run it once after changing package.json (`npm ci && npm run build`); the output is committed,
// so users and CI need no Node.
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static", "tenders", "age.min.js");

const result = await build({
  entryPoints: [join(here, "entry.js")],
  bundle: true,
  minify: true,
  format: "iife",
  globalName: "ebAge",
  target: "es2022",
  legalComments: "none",
  metafile: true,
  write: false,
});

// Every package that ended up in the bundle, with its version and licence text.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (!match || packages.has(match[1])) continue;
  const root = join(here, "node_modules", match[1]);
  const meta = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const licenceFile = ["LICENSE", "LICENSE.md", "LICENSE.txt"].map((n) => join(root, n)).find(existsSync);
  packages.set(match[1], {
    version: meta.version,
    licence: meta.license,
    text: licenceFile ? readFileSync(licenceFile, "utf8").trim() : "",
  });
}
const header = [
  "/*! age.min.js for e-bourgogne: built by src/ebourgogne/tenders/jsbuild/build.mjs with esbuild.",
  " * Bundled packages and their licences:",
];
for (const [name, { version, licence, text }] of [...packages].sort()) {
  header.push(" *", ` * ${name} ${version} (${licence})`);
  for (const line of text.split("\n")) header.push(` *   ${line.replaceAll("*/", "* /")}`.trimEnd());
}
header.push(" */");
const code = result.outputFiles[0].text;
writeFileSync(out, header.join("\n") + "\n" + code);
console.log(`${out}: ${(code.length / 1024).toFixed(1)} KiB of code, ${packages.size} packages: ${[...packages.keys()].join(", ")}`);
