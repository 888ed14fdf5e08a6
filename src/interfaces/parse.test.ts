import { test } from "node:test";
import * as assert from "node:assert/strict";
import { cdevWord, debugfsWord, kstrtouintFromUser, nameContainsDotdot, simpleStrtol, sysfsStreq } from "./parse.js";
import { isRprocError } from "../errors.js";

const b = (s: string) => new TextEncoder().encode(s);
const errno = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return isRprocError(e) ? e.code : `not RprocError: ${String(e)}`;
  }
  return "ok";
};

test("sysfs_streq: one trailing newline on either side, nothing else", () => {
  const rows: [string, boolean][] = [
    ["start", true],
    ["start\n", true],
    ["start\n\n", false],
    [" start", false],
    ["Start", false],
    ["star", false],
    ["startx", false],
    ["", false],
    ["\n", false],
  ];
  for (const [s, want] of rows) assert.equal(sysfsStreq(s, "start"), want, JSON.stringify(s));
});

test("debugfs words: strncmp over count bytes, a final newline becomes NUL, 1..max bytes", () => {
  const w = ["enabled", "disabled", "recover"];
  assert.equal(debugfsWord(b("e"), w, 10, "r"), "enabled"); // echo -n e
  assert.equal(debugfsWord(b("enabled\n"), w, 10, "r"), "enabled");
  assert.equal(debugfsWord(b("d"), w, 10, "r"), "disabled");
  assert.equal(debugfsWord(b("r"), w, 10, "r"), "recover");
  assert.equal(debugfsWord(b("e\n"), w, 10, "r"), undefined); // NUL at index 1 vs 'n'
  assert.equal(debugfsWord(b("enabledX"), w, 10, "r"), undefined);
  assert.equal(debugfsWord(b("\n"), w, 10, "r"), undefined);
  assert.equal(errno(() => debugfsWord(b(""), w, 10, "r")), "EINVAL");
  assert.equal(errno(() => debugfsWord(b("disabled\n\n\n"), w, 10, "r")), "EINVAL");
  assert.equal(debugfsWord(b("i"), ["disabled", "enabled", "inline"], 20, "c"), "inline");
  assert.equal(debugfsWord(b("inl"), ["disabled", "enabled", "inline"], 20, "c"), "inline");
});

test("cdev words: prefixes, no newline, 1..10 bytes", () => {
  const rows: [string, string | undefined][] = [
    ["start", "start"],
    ["s", "start"],
    ["st", "start"],
    ["sta", "start"],
    ["sto", "stop"],
    ["stop", "stop"],
    ["d", "detach"],
    ["detach", "detach"],
    ["start\n", undefined],
    ["stop\n", undefined],
    ["", undefined],
    ["startstart1", undefined],
    ["x", undefined],
  ];
  for (const [s, want] of rows) assert.equal(cdevWord(b(s)), want, JSON.stringify(s));
});

test("kstrtouint base 0: prefixes, one newline, EINVAL for text, ERANGE beyond 32 bits", () => {
  for (const s of ["1", "0x1", "01", "1\n", "+1", "0X1"]) assert.equal(kstrtouintFromUser(b(s), "crash"), 1, s);
  assert.equal(kstrtouintFromUser(b("0"), "crash"), 0);
  assert.equal(kstrtouintFromUser(b("4294967295"), "crash"), 0xffffffff);
  for (const s of ["", "\n", "abc", "0x", "1 ", " 1", "1\n\n", "08", "-1", "1x"]) assert.equal(errno(() => kstrtouintFromUser(b(s), "crash")), "EINVAL", JSON.stringify(s));
  for (const s of ["4294967296", "0x100000000", "99999999999999999999999"]) assert.equal(errno(() => kstrtouintFromUser(b(s), "crash")), "ERANGE", s);
});

test("simple_strtol and the firmware loader's '..' rule", () => {
  assert.equal(simpleStrtol("1"), 1);
  assert.equal(simpleStrtol("1abc"), 1);
  assert.equal(simpleStrtol("01"), 1);
  assert.equal(simpleStrtol("+1"), 0);
  assert.equal(simpleStrtol(" 1"), 0);
  assert.equal(simpleStrtol("-1"), -1);
  for (const n of ["..", "../x", "a/../b", "a/.."]) assert.equal(nameContainsDotdot(n), true, n);
  for (const n of ["a..b", "foo/bar..bin", "..x", "x..", "fw.elf"]) assert.equal(nameContainsDotdot(n), false, n);
});
