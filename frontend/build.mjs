// Builds src/ into the integration's committed bundle: one minified ES module, no externals.
// The first line names the SHA-256 of the sources it was built from; tests/test_card.py
// recomputes it, so a bundle older than its sources fails the tests.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = fileURLToPath(new URL(".", import.meta.url));

/** The files the bundle depends on: the sources, the lock file, this script, tsconfig. */
export function sourceFiles() {
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
    );
  return [...walk(join(here, "src")), ...["build.mjs", "package-lock.json", "package.json", "tsconfig.json"].map((f) => join(here, f))]
    .map((f) => relative(here, f).split("\\").join("/"))
    .sort();
}

export function sourceHash() {
  const hash = createHash("sha256");
  for (const file of sourceFiles()) {
    hash.update(file + "\0");
    hash.update(readFileSync(join(here, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

await build({
  entryPoints: [join(here, "src/energy-hub-card.ts")],
  outfile: join(here, "../custom_components/energy_hub/frontend/energy-hub-card.js"),
  bundle: true,
  format: "esm",
  minify: true,
  target: "es2021",
  legalComments: "eof",
  banner: { js: `/* energy-hub-card sources sha256:${sourceHash()} */` },
  logLevel: "warning",
});
