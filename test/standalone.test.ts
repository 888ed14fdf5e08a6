// The repository stands alone: no source, test, bench, script or doc reads or
// cites a path outside it (the reference material beside the repository is
// read by people, never by code). Data a test needs is copied into fixtures/.
import { test } from "node:test";
import * as assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const CHECKED = ["src", "test", "bench", "scripts", "docs", ".ci", "README.md", "package.json"];
const OUTSIDE = /\.\.\/shared\b|\/work\/shared\b/;

function files(path: string, out: string[]): string[] {
  const st = statSync(path);
  if (st.isFile()) out.push(path);
  else for (const name of readdirSync(path)) files(join(path, name), out);
  return out;
}

test("nothing in src, test, bench, scripts or docs reads outside the repository", () => {
  const offenders: string[] = [];
  for (const top of CHECKED) {
    for (const file of files(join(REPO, top), [])) {
      if (file.endsWith("standalone.test.ts")) continue;
      const text = readFileSync(file, "latin1");
      text.split("\n").forEach((line, i) => {
        if (OUTSIDE.test(line)) offenders.push(`${file.slice(REPO.length)}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  assert.deepEqual(offenders, []);
});
