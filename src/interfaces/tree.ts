/**
 * The board's file tree (spec §2.4) over a set of processors: sysfs class
 * and device directories, debugfs, devcoredump, the firmware_class path
 * parameter and /dev/remoteprocN, with class entries as symlinks exactly
 * where the kernel has them. Paths are relative to the served root.
 */
import { RprocError } from "../errors.js";
import type { Rproc } from "../core/rproc.js";
import { RprocCdev } from "./cdev.js";
import { rprocDebugfsEntries } from "./debugfs.js";
import { DevcdView, type DevcdOptions } from "./devcoredump.js";
import { attributeFile, dir, link, staticDir, type DirNode, type FileNode, type VNode } from "./node.js";
import { cString } from "./parse.js";
import type { PointerFormat } from "./rsc-text.js";
import { rprocSysfsAttributes, type KernelQuirks } from "./sysfs.js";

export interface BoardTreeOptions {
  quirks?: KernelQuirks & {
    /** Before v6.4 the firmware_class path keeps a trailing newline, so `echo dir > path` breaks loading. */
    keepPathNewline?: boolean;
  };
  pointers?: PointerFormat;
  devcd?: DevcdOptions;
  /** Platform device name per processor (the parent of remoteprocN); default `<name>-rproc` (`<name>-rproc.<index>` when names repeat). */
  deviceName?: (rproc: Rproc) => string;
}

/** module_param_string(path, fw_path_para, 256): longer strings are ENOSPC. */
const FW_PATH_MAX = 256;

export class BoardTree {
  readonly root: DirNode;
  readonly devcd: DevcdView;
  readonly cdevs: RprocCdev[];
  /** firmware_class.path as written. */
  firmwarePath = "";
  private readonly baseSearch: Map<Rproc, string[]>;

  constructor(
    readonly rprocs: readonly Rproc[],
    private readonly opts: BoardTreeOptions = {},
  ) {
    this.devcd = new DevcdView(rprocs, opts.devcd ?? {});
    this.cdevs = rprocs.map((r) => new RprocCdev(r, opts.quirks ?? {}));
    this.baseSearch = new Map(rprocs.map((r) => [r, [...r.searchPath]]));
    this.root = this.build();
  }

  deviceOf(rproc: Rproc): string {
    if (this.opts.deviceName) return this.opts.deviceName(rproc);
    // Two processors of the same name (two boards served together) get distinct parents.
    const twins = this.rprocs.filter((r) => r.name === rproc.name).length > 1;
    return twins ? `${rproc.name}-rproc.${rproc.index}` : `${rproc.name}-rproc`;
  }

  close(): void {
    this.devcd.close();
  }

  /** Writing firmware_class.path: the directory is searched first by every processor. */
  setFirmwarePath(buf: Uint8Array): void {
    const s = cString(buf);
    if (s.length + 1 > FW_PATH_MAX)
      throw new RprocError("ENOSPC", `path: string doesn't fit in ${FW_PATH_MAX - 1} chars`, { field: "firmware_class.path", value: s.length, limit: FW_PATH_MAX - 1 });
    this.firmwarePath = s;
    const dirPath = this.opts.quirks?.keepPathNewline ? s : s.replace(/\n$/, "");
    for (const r of this.rprocs) r.searchPath = dirPath ? [dirPath, ...this.baseSearch.get(r)!] : [...this.baseSearch.get(r)!];
  }

  private rprocDir(r: Rproc): DirNode {
    const attrs = rprocSysfsAttributes(r, this.opts.quirks ?? {});
    return dir(() => {
      const e: [string, VNode][] = Object.entries(attrs);
      e.push(["device", link(`../../../${this.deviceOf(r)}`)], ["subsystem", link("../../../../../class/remoteproc")]);
      this.devcd.sync(r);
      const d = this.devcd.entryOf(r);
      if (d) e.push(["devcoredump", link(`../../../../virtual/devcoredump/${d.name}`)]);
      return e;
    });
  }

  private devcdDir(name: string): DirNode {
    const data: FileNode = {
      kind: "file",
      mode: 0o600,
      size: 0,
      open: () => ({
        read: (offset, size) => this.devcd.read(name, offset, size),
        // devcd_data_write: any content frees the dump; the write returns its count.
        write: (buf) => {
          this.devcd.free(name);
          return buf.length;
        },
      }),
    };
    return dir(() => {
      const d = this.devcd.get(name);
      if (!d) return [];
      return [
        ["data", data],
        ["failing_device", link(`../../../platform/${this.deviceOf(d.rproc)}/remoteproc/${d.rproc.devName}`)],
      ];
    });
  }

  private build(): DirNode {
    const rs = this.rprocs;
    const devcdList = () => {
      for (const r of rs) this.devcd.sync(r);
      return this.devcd.list();
    };
    const disabled = attributeFile({ mode: 0o644, kernfs: true, show: () => this.devcd.disabledShow(), store: (b) => this.devcd.disabledStore(b) });
    const fwPath = attributeFile({ mode: 0o644, kernfs: true, show: () => `${this.firmwarePath}\n`, store: (b) => this.setFirmwarePath(b) });
    const sys = staticDir({
      class: staticDir({
        remoteproc: dir(() => rs.map((r) => [r.devName, link(`../../devices/platform/${this.deviceOf(r)}/remoteproc/${r.devName}`)])),
        devcoredump: dir(() => [["disabled", disabled], ...devcdList().map((d): [string, VNode] => [d.name, link(`../../devices/virtual/devcoredump/${d.name}`)])]),
      }),
      devices: staticDir({
        platform: dir(() => rs.map((r) => [this.deviceOf(r), staticDir({ remoteproc: staticDir({ [r.devName]: this.rprocDir(r) }) })])),
        virtual: staticDir({ devcoredump: dir(() => devcdList().map((d) => [d.name, this.devcdDir(d.name)])) }),
      }),
      bus: staticDir({ platform: staticDir({ devices: dir(() => rs.map((r) => [this.deviceOf(r), link(`../../../devices/platform/${this.deviceOf(r)}`)])) }) }),
      kernel: staticDir({
        debug: staticDir(
          { remoteproc: dir(() => rs.map((r) => [r.devName, dir(() => rprocDebugfsEntries(r, this.opts.pointers), 0o700)]), 0o700) },
          0o700,
        ),
      }),
      module: staticDir({ firmware_class: staticDir({ parameters: staticDir({ path: fwPath }) }) }),
    });
    const dev = dir(() => this.cdevs.map((c) => [c.rproc.devName, c.file()]));
    return staticDir({ sys, dev });
  }
}
