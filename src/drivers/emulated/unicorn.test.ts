import { test } from "node:test";
import * as assert from "node:assert/strict";
import { RprocError } from "../../errors.js";
import { loadUnicorn, unicornAvailable } from "./unicorn.js";

const refused = (why: RegExp) => (e: unknown) =>
  e instanceof RprocError && e.code === "ENODEV" && /install the Debian package libunicorn2 \(apt-get install libunicorn2\)/.test(e.message) && why.test(e.message);

test("RPROC_UNICORN_LIB pointing at a missing file: ENODEV naming the package and the path, even after the real library was loaded", () => {
  if (unicornAvailable()) assert.ok(loadUnicorn().version.startsWith("2."));
  assert.throws(() => loadUnicorn({ RPROC_UNICORN_LIB: "/nonexistent/libunicorn.so.2" }), refused(/\/nonexistent\/libunicorn\.so\.2/));
});

test("a library that is not Unicorn 2 (here libm): ENODEV naming the package, not a bare koffi error", () => {
  assert.throws(() => loadUnicorn({ RPROC_UNICORN_LIB: "libm.so.6" }), refused(/libm\.so\.6.*not a Unicorn 2 library/));
});

test("RPROC_UNICORN_LIB=none simulates the absence", () => {
  assert.throws(() => loadUnicorn({ RPROC_UNICORN_LIB: "none" }), refused(/disabled by RPROC_UNICORN_LIB=none/));
});
