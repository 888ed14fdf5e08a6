/**
 * A driver for a real board's remoteproc files: /sys/class/remoteproc,
 * debugfs, devcoredump, /dev/remoteprocN, under a configurable root ("/" on
 * a board; a directory served by `rproc mount` closes the loop without
 * hardware). One write(2) per command, as the kernel expects; every file
 * error becomes an RprocError with the same errno code, naming the file.
 */
import { constants as C } from "node:fs";
import { copyFile, open, readFile, readdir, readlink, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { ERRNO, RprocError, type Errno } from "../errors.js";

export interface BoardRproc {
  /** remoteprocN */
  dev: string;
  index: number;
  name: string;
  state: string;
  firmware: string;
  recovery?: string;
  coredump?: string;
  /** The platform device the class entry links to (readlink of the class symlink). */
  parent?: string;
  /** /dev/remoteprocN when it exists. */
  cdev?: string;
  /** The devcoredump device holding an unread dump, if any. */
  devcoredump?: string;
}

/** What the board's kernel turned out to do (spec §2.6: detected, not assumed). */
export interface DetectedQuirks {
  /** `start` on a running processor answered EBUSY (kernels before 2022). */
  startBusyWhenRunning?: boolean;
  /** `detach` answered EINVAL on an attached processor (kernels before 5.13). */
  noDetach?: boolean;
}

function toRprocError(e: unknown, path: string, step: string): RprocError {
  if (e instanceof RprocError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const errno: Errno = code && code in ERRNO ? (code as Errno) : "EIO";
  return new RprocError(errno, `${step}: ${path}: ${code ?? (e as Error).message}`, { step, field: path, cause: e });
}

export class SysfsBoard {
  readonly quirks: DetectedQuirks = {};

  constructor(readonly root = "/") {}

  private p(...parts: string[]): string {
    return join(this.root, ...parts);
  }

  classDir(dev: string): string {
    return this.p("sys/class/remoteproc", dev);
  }

  async read(path: string, step = "read"): Promise<string> {
    try {
      return (await readFile(path, "latin1")).replace(/\0/g, "");
    } catch (e) {
      throw toRprocError(e, path, step);
    }
  }

  /** One write(2) of exactly `text` (no O_TRUNC games: sysfs ignores it, a plain directory gets the text). */
  async write(path: string, text: string | Uint8Array, step = "write"): Promise<void> {
    let fh;
    try {
      fh = await open(path, C.O_WRONLY | C.O_TRUNC);
      await fh.write(typeof text === "string" ? Buffer.from(text, "latin1") : text);
    } catch (e) {
      throw toRprocError(e, path, step);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }

  private async optional(path: string): Promise<string | undefined> {
    try {
      return (await this.read(path)).replace(/\n$/, "");
    } catch {
      return undefined;
    }
  }

  /** readdir of /sys/class/remoteproc, then each entry's attributes. */
  async list(): Promise<BoardRproc[]> {
    const cls = this.p("sys/class/remoteproc");
    let names: string[];
    try {
      names = (await readdir(cls)).filter((n) => /^remoteproc\d+$/.test(n));
    } catch (e) {
      throw toRprocError(e, cls, "discovery");
    }
    names.sort((a, b) => Number(a.slice(10)) - Number(b.slice(10)));
    return Promise.all(names.map((n) => this.status(n)));
  }

  async status(dev: string): Promise<BoardRproc> {
    const d = this.classDir(dev);
    const r: BoardRproc = {
      dev,
      index: Number(dev.slice(10)),
      name: (await this.read(join(d, "name"), "discovery")).replace(/\n$/, ""),
      state: (await this.read(join(d, "state"), "discovery")).replace(/\n$/, ""),
      firmware: (await this.optional(join(d, "firmware"))) ?? "",
    };
    const rec = await this.optional(join(d, "recovery"));
    if (rec !== undefined) r.recovery = rec;
    const cd = await this.optional(join(d, "coredump"));
    if (cd !== undefined) r.coredump = cd;
    try {
      r.parent = basename(join(await readlink(d), "../.."));
    } catch {
      /* a plain directory: no symlink */
    }
    const cdev = this.p("dev", dev);
    if (await stat(cdev).then(() => true, () => false)) r.cdev = cdev;
    try {
      r.devcoredump = basename(await readlink(join(d, "devcoredump")));
    } catch {
      /* no dump */
    }
    return r;
  }

  /** Accepts remoteprocN or a processor name. */
  async resolve(which: string): Promise<string> {
    if (/^remoteproc\d+$/.test(which)) return which;
    const hit = (await this.list()).find((r) => r.name === which);
    if (!hit) throw new RprocError("ENODEV", `no remote processor named ${which} under ${this.p("sys/class/remoteproc")}`, { field: "processor", value: which });
    return hit.dev;
  }

  async state(dev: string): Promise<string> {
    return (await this.read(join(this.classDir(dev), "state"), "state")).replace(/\n$/, "");
  }

  /** `echo start > state`; an old kernel's EBUSY on a running processor is recorded as a quirk and treated as done. */
  async start(dev: string): Promise<void> {
    try {
      await this.write(join(this.classDir(dev), "state"), "start", "rproc_boot");
    } catch (e) {
      if (e instanceof RprocError && e.code === "EBUSY" && ["running", "attached"].includes(await this.state(dev))) {
        this.quirks.startBusyWhenRunning = true;
        return;
      }
      throw e;
    }
  }

  async stop(dev: string): Promise<void> {
    await this.write(join(this.classDir(dev), "state"), "stop", "rproc_shutdown");
  }

  async detach(dev: string): Promise<void> {
    try {
      await this.write(join(this.classDir(dev), "state"), "detach", "rproc_detach");
    } catch (e) {
      if (e instanceof RprocError && e.code === "EINVAL" && (await this.state(dev)) === "attached") {
        this.quirks.noDetach = true;
        throw new RprocError("EOPNOTSUPP", `${dev}: this kernel has no detach (before 5.13)`, { step: "rproc_detach", cause: e });
      }
      throw e;
    }
  }

  async setRecovery(dev: string, word: "enabled" | "disabled" | "recover"): Promise<void> {
    await this.write(join(this.classDir(dev), "recovery"), word, "recovery");
  }

  async setCoredump(dev: string, word: "disabled" | "enabled" | "inline"): Promise<void> {
    await this.write(join(this.classDir(dev), "coredump"), word, "coredump");
  }

  /**
   * Places `file` where the board's firmware loader finds it and names it:
   * copied into `firmwareDir` (default <root>/lib/firmware) under a unique
   * name, so an image already there is never overwritten; with `viaPath`,
   * the file's directory becomes firmware_class.path instead (global: it
   * affects every driver until reboot).
   */
  async placeFirmware(dev: string, file: string, opts: { firmwareDir?: string; viaPath?: boolean; now?: number } = {}): Promise<string> {
    let name: string;
    if (opts.viaPath) {
      await this.write(this.p("sys/module/firmware_class/parameters/path"), join(file, ".."), "firmware_class.path");
      name = basename(file);
    } else {
      const dir = opts.firmwareDir ?? this.p("lib/firmware");
      name = `${basename(file)}.rproc-${opts.now ?? Date.now()}`;
      try {
        await copyFile(file, join(dir, name), C.COPYFILE_EXCL);
      } catch (e) {
        throw toRprocError(e, join(dir, name), "firmware placement");
      }
    }
    await this.write(join(this.classDir(dev), "firmware"), name, "rproc_set_firmware");
    return name;
  }

  /** Polls `state` until it is one of `states` (a crash is handled in a workqueue). */
  async waitState(dev: string, states: string[], timeoutMs = 5000, pollMs = 20): Promise<string> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.state(dev);
      if (states.includes(s)) return s;
      if (Date.now() >= end) throw new RprocError("ETIMEDOUT", `${dev} stayed ${s} (waited for ${states.join("|")})`, { step: "poll state", value: s });
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  async trace(dev: string, index = 0): Promise<string> {
    return this.read(this.p("sys/kernel/debug/remoteproc", dev, `trace${index}`), "trace");
  }

  async resourceTable(dev: string): Promise<string> {
    return this.read(this.p("sys/kernel/debug/remoteproc", dev, "resource_table"), "resource_table");
  }

  /** Streams the processor's devcoredump data (reads at increasing offsets until 0), then frees it. */
  async takeCoredump(dev: string, opts: { free?: boolean } = {}): Promise<Uint8Array | undefined> {
    let devcd: string;
    try {
      devcd = basename(await readlink(join(this.classDir(dev), "devcoredump")));
    } catch {
      return undefined;
    }
    const data = this.p("sys/class/devcoredump", devcd, "data");
    const parts: Buffer[] = [];
    let fh;
    try {
      fh = await open(data, "r");
      for (let off = 0; ; ) {
        const buf = Buffer.alloc(64 * 1024);
        const { bytesRead } = await fh.read(buf, 0, buf.length, off);
        if (bytesRead === 0) break;
        parts.push(buf.subarray(0, bytesRead));
        off += bytesRead;
      }
    } catch (e) {
      throw toRprocError(e, data, "devcoredump read");
    } finally {
      await fh?.close().catch(() => undefined);
    }
    if (opts.free !== false) await this.write(data, "1", "devcoredump free");
    return Buffer.concat(parts);
  }

  /** firmware_class.path as the board has it. */
  async firmwarePath(): Promise<string | undefined> {
    return this.optional(this.p("sys/module/firmware_class/parameters/path"));
  }
}

