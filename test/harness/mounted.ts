// Serves processors through a real FUSE mount inside the test process, and
// runs shell commands against it asynchronously (a synchronous child would
// block the event loop that answers its own requests).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BoardTree } from "../../src/interfaces/tree.js";
import { fuseAvailable, mountTree, type Mounted } from "../../src/mount/mount.js";
import type { Rproc } from "../../src/core/rproc.js";

/** Why FUSE tests cannot run here, or undefined when they can. */
export function fuseSkipReason(): string | undefined {
  const a = fuseAvailable();
  return a.ok ? undefined : `skipped: ${a.why}`;
}

export interface MountedBoard {
  dir: string;
  tree: BoardTree;
  mounted: Mounted;
  log: string[];
  close(): Promise<void>;
}

export function mountBoard(rprocs: Rproc[]): MountedBoard {
  const dir = mkdtempSync(join(tmpdir(), "rproc-mnt-"));
  const tree = new BoardTree(rprocs);
  const log: string[] = [];
  const mounted = mountTree(dir, tree.root, { log: (e) => log.push(`${e.op} ${e.path} ${e.data ?? ""} ${e.errno}`) });
  return {
    dir,
    tree,
    mounted,
    log,
    async close() {
      await mounted.unmount(2000);
      tree.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function sh(script: string, opts: { shell?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(opts.shell ?? "sh", ["-c", script], { env: { ...process.env, ...opts.env } });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    const t = setTimeout(() => p.kill("SIGKILL"), opts.timeoutMs ?? 30_000);
    p.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}
