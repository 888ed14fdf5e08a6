import { after, before, test } from "node:test";
import * as assert from "node:assert/strict";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { Platform } from "../platform/platform.js";
import { openRproc } from "../drivers/registry.js";
import { RprocState } from "../core/state.js";
import { LiveSession, parseCommand } from "./live.js";
import { startServer, type RunningServer } from "./server.js";

const FW = fileURLToPath(new URL("../../fixtures/firmware/stm32mp15-m4.elf", import.meta.url));
let server: RunningServer;
let live: LiveSession;

before(async () => {
  const platform = Platform.load("stm32mp157");
  live = new LiveSession(await openRproc(platform, "m4", { firmware: FW }), platform.desc, "sim");
  server = await startServer(live, { port: 0, traceMs: 0 });
});
after(async () => {
  await server.close();
  await live.close();
});

function call(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: server.port, method, path, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const own = (): Record<string, string> => ({ host: `127.0.0.1:${server.port}` });
const cmd = (body: unknown, extra: Record<string, string> = {}) =>
  call("POST", "/api/cmd", { ...own(), origin: `http://127.0.0.1:${server.port}`, "content-type": "application/json", "x-rproc-token": server.token, ...extra }, JSON.stringify(body));

test("listens on 127.0.0.1 and serves its page with security headers", async () => {
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const r = await call("GET", "/", own());
  assert.equal(r.status, 200);
  assert.match(r.body, /data-live="1"/);
  assert.equal(r.headers["x-frame-options"], "DENY");
  assert.equal((await call("GET", "/", { host: `localhost:${server.port}` })).status, 200);
});

test("DNS rebinding and cross-site requests are refused", async () => {
  assert.equal((await call("GET", "/", { host: `evil.example:${server.port}` })).status, 421);
  assert.equal((await call("GET", "/", { host: "127.0.0.1" })).status, 421, "wrong port");
  assert.equal((await call("GET", "/events", { ...own(), origin: "http://evil.example" })).status, 403);
  assert.equal((await call("GET", "/", { ...own(), "sec-fetch-site": "cross-site" })).status, 403);
  assert.equal((await cmd({ cmd: "start" }, { origin: "http://evil.example" })).status, 403);
  assert.equal((await cmd({ cmd: "start" }, { "x-rproc-token": "0".repeat(32) })).status, 403, "no token, no command");
  assert.equal((await cmd({ cmd: "start" }, { "content-type": "text/plain" })).status, 415, "a form post cannot carry a command");
  const noOrigin = await call("POST", "/api/cmd", { ...own(), "content-type": "application/json", "x-rproc-token": server.token }, '{"cmd":"start"}');
  assert.equal(noOrigin.status, 403);
  assert.equal(live.rproc.state, RprocState.OFFLINE, "none of these reached the processor");
});

test("only its own routes, commands and arguments", async () => {
  for (const p of ["/../../etc/passwd", "/package.json", "/src/web/server.ts", "/%2e%2e/x"]) assert.equal((await call("GET", p, own())).status, 404, p);
  assert.equal((await call("PUT", "/", own())).status, 405);
  assert.equal((await cmd({ cmd: "rm -rf" })).status, 400);
  assert.equal((await cmd({ cmd: "crash", arg: "segfault" })).status, 400);
  assert.equal((await cmd({ cmd: "start", arg: "x" })).status, 400);
  assert.equal((await cmd({ cmd: "start", extra: 1 })).status, 400);
  assert.equal((await cmd("x".repeat(5000))).status, 413);
  assert.equal((await call("GET", "/dump", own())).status, 404, "no dump yet");
  assert.ok(parseCommand([1]) instanceof Error);
  assert.deepEqual(parseCommand({ cmd: "recovery", arg: "recover" }), { cmd: "recovery", arg: "recover" });
});

test("commands drive the library: start, crash with a dump, stop", async () => {
  const start = JSON.parse((await cmd({ cmd: "start" })).body);
  assert.deepEqual(start, { ok: true, state: "running" });
  assert.equal(live.rproc.state, RprocState.RUNNING);
  assert.equal(JSON.parse((await cmd({ cmd: "coredump", arg: "enabled" })).body).ok, true);
  assert.equal(JSON.parse((await cmd({ cmd: "crash", arg: "fatal-error" })).body).ok, true);
  while (live.rproc.crashCnt === 0 || live.rproc.state !== RprocState.RUNNING) await new Promise((r) => setTimeout(r, 10));
  const dump = await call("GET", "/dump", own());
  assert.equal(dump.status, 200);
  assert.ok(dump.body.startsWith("\x7fELF"));
  const report = JSON.parse((await call("GET", "/report.json", own())).body);
  assert.equal(report.live.crashCnt, 1);
  assert.equal(report.boot.state, "running");
  assert.equal(JSON.parse((await cmd({ cmd: "stop" })).body).state, "offline");
  const again = JSON.parse((await cmd({ cmd: "stop" })).body);
  assert.equal(again.ok, false, "stopping an offline processor is the kernel's error, reported");
});
