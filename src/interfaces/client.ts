/**
 * Path-level access to a served tree without a kernel in between: what
 * open/read/write/close through a mount would do, symlinks followed. The
 * in-process tests and the FUSE benchmark's reference use it, so both
 * exercise the same nodes the FUSE server does.
 */
import { RprocError } from "../errors.js";
import type { DirNode, FileHandle, OpenFlags, VNode } from "./node.js";

const MAX_LINKS = 40; // the kernel's MAXSYMLINKS

/** Resolves `path` (relative to the root, '/'-separated) following symlinks. */
export function resolvePath(root: DirNode, path: string): VNode {
  const stack = path.split("/").filter((p) => p && p !== ".");
  const done: string[] = [];
  let node: VNode = root;
  let links = 0;
  while (stack.length) {
    const part = stack.shift()!;
    if (part === "..") {
      done.pop();
      node = walk(root, done);
      continue;
    }
    if (node.kind !== "dir") throw new RprocError("ENOTDIR", `${done.join("/")} is not a directory`, { field: "path", value: path });
    const next = node.children().get(part);
    if (!next) throw new RprocError("ENOENT", `no such file: ${[...done, part].join("/")}`, { field: "path", value: path });
    if (next.kind === "link") {
      if (++links > MAX_LINKS) throw new RprocError("ELOOP", "too many symlinks", { field: "path", value: path });
      stack.unshift(...next.target.split("/").filter((p) => p && p !== "."));
      node = walk(root, done);
      continue;
    }
    done.push(part);
    node = next;
  }
  return node;
}

function walk(root: DirNode, parts: string[]): VNode {
  let n: VNode = root;
  for (const p of parts) {
    if (n.kind !== "dir") break;
    n = n.children().get(p) ?? n;
  }
  return n;
}

export function openPath(root: DirNode, path: string, flags: OpenFlags): FileHandle {
  const n = resolvePath(root, path);
  if (n.kind !== "file") throw new RprocError("EISDIR", `${path} is a directory`, { field: "path", value: path });
  return n.open(flags);
}

/** `cat path`: one open, reads until an empty read, close. */
export async function readText(root: DirNode, path: string): Promise<string> {
  const h = openPath(root, path, { read: true, write: false });
  try {
    const parts: Uint8Array[] = [];
    let off = 0;
    for (;;) {
      const chunk = await h.read(off, 4096);
      if (chunk.length === 0) break;
      parts.push(Uint8Array.from(chunk));
      off += chunk.length;
    }
    return Buffer.concat(parts).toString("latin1");
  } finally {
    await h.release?.();
  }
}

/** `printf %s data > path`: one open, one write(2), close; returns the write's count. */
export async function writeOnce(root: DirNode, path: string, data: string | Uint8Array): Promise<number> {
  const h = openPath(root, path, { read: false, write: true });
  try {
    return await h.write(typeof data === "string" ? new TextEncoder().encode(data) : data, 0);
  } finally {
    await h.release?.();
  }
}

/** The errno a write gives ("OK" when it succeeds), as a test table states it. */
export async function writeErrno(root: DirNode, path: string, data: string | Uint8Array): Promise<string> {
  try {
    await writeOnce(root, path, data);
    return "OK";
  } catch (e) {
    if (e instanceof RprocError) return e.code;
    throw e;
  }
}
