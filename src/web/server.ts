/**
 * `rproc serve`'s HTTP side (node:http, 127.0.0.1 only): the live page,
 * server-sent events carrying the library's events and re-rendered
 * sections, a command endpoint, and the newest coredump. Nothing else is
 * served: no files from disk, only what this process generated.
 *
 * Refused: a Host that is not this server's (DNS rebinding), an Origin or
 * Sec-Fetch-Site that is not this page's (cross-site driving), a command
 * without the page's token, bodies over 4 KiB, and anything not listed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { RprocEvent } from "../core/events.js";
import { esc } from "./escape.js";
import { eventRow } from "./lifecycle.js";
import { LiveSession, parseCommand, CRASH_TYPES } from "./live.js";
import { renderPage, renderSections } from "./page.js";

export interface ServeOptions {
  port?: number;
  /** Coalesce re-renders: at most one snapshot per this many ms (default 60). */
  snapshotMs?: number;
  /** While running, look at the trace buffers this often and push them when they changed (the firmware writes them without an event). Default 500; 0 turns it off. */
  traceMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const MAX_BODY = 4096;
const MAX_CLIENTS = 16;

function controls(session: LiveSession): string {
  const crash = Object.keys(CRASH_TYPES)
    .map((t) => `<button data-cmd="crash" data-arg="${t}">crash: ${t}</button>`)
    .join("");
  const words = (cmd: string, ws: string[]): string => ws.map((w) => `<button data-cmd="${cmd}" data-arg="${w}">${w}</button>`).join("");
  return [
    `<fieldset><legend>state</legend><button data-cmd="start">start</button><button data-cmd="stop">stop</button></fieldset>`,
    `<fieldset><legend>crash</legend>${crash}</fieldset>`,
    `<fieldset><legend>recovery</legend>${words("recovery", ["enabled", "disabled", "recover"])}</fieldset>`,
    `<fieldset><legend>coredump</legend>${words("coredump", ["disabled", "enabled", "inline"])} <a href="/dump" id="dump-link" download>download the newest dump</a></fieldset>`,
    `<span id="live-status">${liveStatus(session)}</span>`,
    `<span id="cmd-status"></span>`,
  ].join("");
}

function liveStatus(session: LiveSession): string {
  const s = session.status();
  return esc(`driver ${s.driver} · power ${s.power} · crashes ${s.crashCnt} · recovery ${s.recovery} · coredump ${s.coredump} · dumps ${s.dumps.length}`);
}

const HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
  "cross-origin-resource-policy": "same-origin",
};

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...HEADERS, "content-type": type, "content-length": Buffer.byteLength(body).toString(), ...extra });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(value));
}

export async function startServer(session: LiveSession, opts: ServeOptions = {}): Promise<RunningServer> {
  const token = randomBytes(16).toString("hex");
  const clients = new Set<ServerResponse>();
  let port = 0;
  const allowedHosts = (): Set<string> => new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  const allowedOrigins = (): Set<string> => new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`]);

  // Event rows and snapshots go out in batches, so a burst of events costs one write per client.
  let pendingRows: string[] = [];
  let lastSeq = 0;
  let timer: NodeJS.Timeout | undefined;
  const snapshotMs = opts.snapshotMs ?? 60;
  const broadcast = (event: string, data: unknown): void => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const c of clients) c.write(frame);
  };
  const snapshot = (): object => {
    const data = session.data();
    const s = renderSections(data);
    return { state: data.live!.state, data, html: { head: s.head, map: s.map, diagnostics: s.diagnostics, states: s.states, crash: s.crash, traces: s.traces, timeline: s.timeline, "live-status": liveStatus(session) } };
  };
  const flush = (): void => {
    timer = undefined;
    if (!clients.size) {
      pendingRows = [];
      return;
    }
    if (pendingRows.length) broadcast("event", { rows: pendingRows, lastSeq });
    pendingRows = [];
    broadcast("snapshot", snapshot());
  };
  const schedule = (): void => {
    timer ??= setTimeout(flush, snapshotMs);
  };
  const off = session.onEvent((e: RprocEvent) => {
    if (!clients.size) return;
    pendingRows.push(eventRow(e));
    lastSeq = e.seq;
    schedule();
  });
  let lastTraces = "";
  const traceTimer =
    (opts.traceMs ?? 500) > 0
      ? setInterval(() => {
          if (!clients.size) return;
          const text = session.rproc.traces.map((_, i) => session.rproc.traceText(i)).join("\u0000");
          if (text !== lastTraces) {
            lastTraces = text;
            schedule();
          }
        }, opts.traceMs ?? 500)
      : undefined;
  traceTimer?.unref();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const host = req.headers.host ?? "";
    if (!allowedHosts().has(host)) return sendJson(res, 421, { error: { code: "EACCES", message: "host not allowed" } });
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().has(origin)) return sendJson(res, 403, { error: { code: "EACCES", message: "origin not allowed" } });
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin" && site !== "none") return sendJson(res, 403, { error: { code: "EACCES", message: "cross-site request refused" } });
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/") {
      return send(res, 200, "text/html; charset=utf-8", renderPage(session.data(), { live: { controls: controls(session), token } }));
    }
    if (req.method === "GET" && path === "/events") {
      if (clients.size >= MAX_CLIENTS) return sendJson(res, 503, { error: { code: "EBUSY", message: "too many viewers" } });
      res.writeHead(200, { ...HEADERS, "content-type": "text/event-stream; charset=utf-8", connection: "keep-alive" });
      res.write(": rproc\n\n");
      clients.add(res);
      req.on("close", () => clients.delete(res));
      res.write(`event: snapshot\ndata: ${JSON.stringify(snapshot())}\n\n`);
      return;
    }
    if (req.method === "GET" && path === "/report.json") return sendJson(res, 200, session.data());
    if (req.method === "GET" && path === "/dump") {
      const d = session.latestDump();
      if (!d) return sendJson(res, 404, { error: { code: "ENOENT", message: "no coredump yet" } });
      return send(res, 200, "application/octet-stream", d.bytes, { "content-disposition": `attachment; filename="${d.name.replace(/[^A-Za-z0-9._-]/g, "_")}"` });
    }
    if (req.method === "POST" && path === "/api/cmd") {
      if (origin === undefined) return sendJson(res, 403, { error: { code: "EACCES", message: "a command needs this page's Origin" } });
      if (req.headers["x-rproc-token"] !== token) return sendJson(res, 403, { error: { code: "EACCES", message: "a command needs this page's token" } });
      if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) return sendJson(res, 415, { error: { code: "EINVAL", message: "JSON body expected" } });
      const body = await readBody(req);
      if (body === undefined) {
        res.on("finish", () => req.destroy());
        return send(res, 413, "application/json; charset=utf-8", JSON.stringify({ error: { code: "EINVAL", message: `body over ${MAX_BODY} bytes` } }), { connection: "close" });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return sendJson(res, 400, { error: { code: "EINVAL", message: "body is not JSON" } });
      }
      const cmd = parseCommand(parsed);
      if (cmd instanceof Error) return sendJson(res, 400, { ok: false, error: { code: cmd.code, message: cmd.message } });
      const result = await Promise.race([session.run(cmd), new Promise<null>((r) => setTimeout(() => r(null), 3000).unref())]);
      return sendJson(res, 200, result ?? { ok: true, pending: true, state: session.status().state });
    }
    if (["/", "/events", "/report.json", "/dump", "/api/cmd"].includes(path)) return sendJson(res, 405, { error: { code: "EINVAL", message: "method not allowed" } });
    return sendJson(res, 404, { error: { code: "ENOENT", message: "not found" } });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: "EIO", message: e instanceof Error ? e.message : String(e) } });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    token,
    async close() {
      off();
      if (timer) clearTimeout(timer);
      if (traceTimer) clearInterval(traceTimer);
      for (const c of clients) c.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      // Over the limit: stop keeping it; the caller answers 413 and closes the connection.
      if (size > MAX_BODY) resolve(undefined);
      else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
