// The import graph points one way: every module of src/ sits in a layer, and a
// module imports only from its own layer or a lower one. The few arrows that
// point back on purpose are listed below with their reason (docs/architecture.md
// explains each); a new one fails this test until it is justified there.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/** Layer of each top-level entry of src/, lowest first. */
const LAYERS: Record<string, number> = {
  "errors.ts": 0,
  "diagnostics.ts": 0,
  formats: 1,
  io: 2,
  platform: 2,
  virtio: 3,
  core: 4,
  tee: 5,
  loaders: 6,
  drivers: 7,
  rpmsg: 7,
  devicetree: 7,
  inspect: 8,
  "inspect.ts": 8,
  interfaces: 8,
  board: 8,
  mount: 9,
  report: 8,
  "index.ts": 9,
  "driver-api.ts": 9,
  web: 9,
  cli: 10,
};

/** Back-arrows kept on purpose: "from → to" (paths below src/, without extension). */
const ALLOWED_BACK_ARROWS = new Set<string>([
  // rproc_alloc_ops: a driver without its own load ops gets the ELF loader's.
  "core/ops → loaders/elf-loader",
  // Temporary, until issue 11 lands: the inspect report builders move to src/inspect/,
  // which ends this arrow (the TEE driver's is gone: it lives in drivers/tee).
  "tee/inspect-signed → inspect",
]);

/** Layer-purity rules beyond the ordering: formats is pure (no I/O, clocks or globals). */
const FORBIDDEN_NODE_MODULES: Record<string, RegExp> = {
  formats: /^node:(fs|child_process|net|http|worker_threads|timers)/,
};

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith(".ts") && !name.endsWith(".test.ts")) out.push(path);
  }
  return out;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(IMPORT)) found.push(m[1] ?? m[2]);
  return found;
}

function topOf(pathBelowSrc: string): string {
  return pathBelowSrc.split("/")[0];
}

function key(pathBelowSrc: string): string {
  return pathBelowSrc.replace(/\.(ts|js)$/, "");
}

test("every top-level entry of src/ has a layer", () => {
  const missing = readdirSync(SRC).filter((n) => !n.endsWith(".test.ts") && !(n in LAYERS));
  assert.deepEqual(missing, [], "add the new folder to LAYERS (and to docs/architecture.md)");
});

test("imports point from higher layers to lower ones, except the documented back-arrows", () => {
  const violations: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = relative(SRC, file);
    const fromLayer = LAYERS[topOf(from)];
    for (const spec of importsOf(file)) {
      if (spec.startsWith("node:")) {
        const rule = FORBIDDEN_NODE_MODULES[topOf(from)];
        if (rule?.test(spec)) violations.push(`${key(from)} imports ${spec} (layer must stay pure)`);
        continue;
      }
      if (!spec.startsWith(".")) continue;
      // Sources import each other by their emitted name (x.js for x.ts).
      const to = relative(SRC, resolve(dirname(file), spec)).replace(/\.js$/, ".ts");
      if (to.startsWith("..")) {
        violations.push(`${key(from)} imports ${spec}, outside src/`);
        continue;
      }
      const toLayer = LAYERS[topOf(to)];
      if (toLayer === undefined || fromLayer === undefined) continue; // reported by the test above
      const arrow = `${key(from)} → ${key(to)}`;
      if (toLayer > fromLayer && !ALLOWED_BACK_ARROWS.has(arrow)) violations.push(arrow);
    }
  }
  assert.deepEqual(violations, []);
});
