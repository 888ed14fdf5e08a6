import { test } from "node:test";
import * as assert from "node:assert/strict";
import { defineCommand, parseCommandArgs, runCommand, usageText, UsageError } from "./command.js";
import type { CliIO } from "./io.js";
import { RprocError } from "../errors.js";
import { COMMANDS } from "./registry.js";

const demo = defineCommand({
  name: "demo",
  synopsis: "FILE [options]",
  positionals: { min: 1, max: 2, missing: "missing FILE", extra: "too many FILEs" },
  options: {
    out: { type: "string", short: "o", value: "FILE", help: "output" },
    dir: { type: "string", multiple: true, value: "DIR", help: "a directory, repeatable" },
    pair: { type: "string", arity: 2, value: "ID VALUE", help: "a pair" },
    loud: { type: "boolean", help: "say more" },
  },
  exitStatus: "0 ok, 1 failed, 2 usage",
  async run({ values, positionals }) {
    if (positionals[0] === "usage") throw new UsageError("bad combination");
    if (positionals[0] === "fail") throw new RprocError("EINVAL", "it failed", { field: "x" });
    if (positionals[0] === "bug") throw new TypeError("a bug");
    return { exit: 0, json: { values, positionals }, stdout: `ok ${positionals.join(",")}\n` };
  },
});

function io(): { io: CliIO; out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return { io: { stdout: (t) => void (out += t), stderr: (t) => void (err += t), isTTY: false, cwd: "/", env: {} }, out: () => out, err: () => err };
}

test("parse: long, --x=v, short, repeatable, arity 2, booleans, --", () => {
  const p = parseCommandArgs(demo, ["a", "--out=x", "-o", "y", "--dir", "d1", "--dir", "d2", "--pair", "1", "2", "--loud", "--", "-b"]);
  assert.equal(p.values.out, "y");
  assert.deepEqual(p.values.dir, ["d1", "d2"]);
  assert.deepEqual(p.values.pair, [["1", "2"]]);
  assert.equal(p.values.loud, true);
  assert.equal(p.values.json, false);
  assert.deepEqual(p.positionals, ["a", "-b"]);
  assert.throws(() => parseCommandArgs(demo, ["a", "--nope"]), UsageError);
  assert.throws(() => parseCommandArgs(demo, ["a", "--pair", "1"]), /needs 2 values/);
  assert.throws(() => parseCommandArgs(demo, ["a", "--loud=1"]), /takes no value/);
  assert.throws(() => parseCommandArgs(demo, []), /missing FILE/);
  assert.throws(() => parseCommandArgs(demo, ["a", "b", "c"]), /too many FILEs/);
  assert.equal(parseCommandArgs(demo, ["--help"]).help, true);
});

test("run: --help 0, usage errors 2 with the usage text, RprocError 1 (JSON error under --json), bugs propagate", async () => {
  const h = io();
  assert.equal(await runCommand(demo, ["-h"], h.io), 0);
  assert.equal(h.out(), usageText(demo));
  assert.match(h.out(), /^usage: rproc demo FILE \[options\]\n[\s\S]*-o, --out FILE\s+output[\s\S]*--json[\s\S]*Exit status: 0 ok/);
  for (const argv of [[], ["a", "--x"], ["usage"]]) {
    const u = io();
    assert.equal(await runCommand(demo, argv, u.io), 2);
    assert.match(u.err(), /^rproc demo: .*\nusage: rproc demo/);
  }
  const f = io();
  assert.equal(await runCommand(demo, ["fail"], f.io), 1);
  assert.equal(f.err(), "rproc demo: it failed\n");
  const fj = io();
  assert.equal(await runCommand(demo, ["fail", "--json"], fj.io), 1);
  assert.equal(JSON.parse(fj.out()).error.code, "EINVAL");
  await assert.rejects(runCommand(demo, ["bug"], io().io), TypeError);
  const ok = io();
  assert.equal(await runCommand(demo, ["a", "--json"], ok.io), 0);
  assert.deepEqual(JSON.parse(ok.out()).positionals, ["a"]);
});

test("every registered command loads, has --help and exits 2 on an unknown option", async () => {
  for (const [name, entry] of Object.entries(COMMANDS)) {
    const { command } = await entry.load();
    assert.equal(command.name, name);
    const h = io();
    assert.equal(await runCommand(command, ["--help"], h.io), 0);
    assert.match(h.out(), new RegExp(`^usage: rproc ${name}`));
    const u = io();
    assert.equal(await runCommand(command, ["--no-such-option"], u.io), 2, name);
  }
});
