/**
 * Boot a generated 32 MiB firmware on a simulated platform and compare, in
 * the same run, with a plain copy of its segments (issue 4).
 * Targets: boot time <= 2x the copy's; peak RSS of a boot <= 2x image + 80 MB.
 *
 * Run: node --import tsx bench/boot.ts [--rounds N] [--warm N] [--no-compile]
 *
 * The reference does the boot's essential data path and nothing else: read
 * the firmware file (request_firmware reads it) and copy every PT_LOAD
 * segment into freshly allocated memory (Buffer.copy of p_filesz, zero-fill
 * of p_memsz - p_filesz). Every round of either side runs in a fresh child
 * process, so both start on memory the process never touched and
 * first-touch page faults count the same way (within one process, the
 * allocator would hand a later round the pages an earlier one freed). The
 * image is written to a temp file by another child beforehand, so no process
 * of the measurement holds it. Peak RSS is the child's getrusage maxRSS,
 * next to an idle child that only loads the boot's modules (the runtime's
 * own share).
 * Children run the project compiled by tsc into a temp folder (what the
 * `rproc` CLI runs); --no-compile keeps them under tsx.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MiB = 1 << 20;
const SEG = 8 * MiB;
const BSS = 256 * 1024;
const BASE = 0x80000000;
const FW = "bench.elf";

const PLATFORM = {
  name: "bench",
  description: "one core, 256 MiB DDR at da = pa",
  sources: ["synthetic benchmark platform (no hardware)"],
  regions: [{ name: "ddr", pa: "0x80000000", size: "0x10000000", kind: "ddr", owner: "host" }],
  pools: [{ name: "dma", pa: "0x8f000000", size: "0x100000" }],
  processors: [
    {
      name: "core0",
      driver: "sim",
      firmware: FW,
      translations: [{ name: "ddr", da: "0x80000000", pa: "0x80000000", size: "0x10000000" }],
      memoryRegions: ["dma"],
      registerCarveouts: false,
      dmaPool: "dma",
      hasIommu: false,
      initiallyRunning: false,
      coredumpSegments: "none",
    },
  ],
};

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const maxRssMB = (): number => process.resourceUsage().maxRSS / 1024;

interface Round {
  total: number; // read + copy (reference) / whole rproc_boot (boot)
  read: number; // reading the file (request_firmware for the boot)
  copy: number; // the segment copies alone (the boot's load step)
}

/** Child: write the image; this process exits before anything is measured. */
async function generate(dir: string): Promise<void> {
  const { buildElf32, buildRscTable } = await import("../test/harness/elf-build.js");
  const table = buildRscTable([
    { type: "trace", da: BASE + 4 * SEG + BSS, len: 0x1000, name: "log" },
    { type: "vdev", id: 7, vrings: [{ da: 0xffffffff, align: 4096, num: 256 }, { da: 0xffffffff, align: 4096, num: 256 }] },
  ]);
  const segments = [0, 1, 2, 3].map((i) => {
    const data = new Uint8Array(SEG);
    for (let j = 0; j < SEG; j += 4096) data[j] = (i * 31 + j / 4096) & 0xff;
    // The last segment carries a .bss: zero-filled on load.
    return { paddr: BASE + i * SEG, data: data as Uint8Array, ...(i === 3 ? { memsz: SEG + BSS } : {}) };
  });
  const tableDa = BASE + 4 * SEG + BSS + 0x1000;
  segments.push({ paddr: tableDa, data: table });
  const image = buildElf32({ entry: BASE, segments, sections: [{ name: ".resource_table", addr: tableDa, data: table }] });
  writeFileSync(join(dir, FW), image);
}

/**
 * The reference: readFileSync + one Buffer.copy per PT_LOAD + zero-fill of
 * the tail, into `mem` (fresh buffers when empty; the same ones when warm).
 */
function copyRound(path: string, mem: Uint8Array[]): Round {
  const t0 = now();
  const file = readFileSync(path);
  const t1 = now();
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const phoff = dv.getUint32(28, true);
  const phnum = dv.getUint16(44, true);
  let seg = 0;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + 32 * i;
    if (dv.getUint32(p, true) !== 1) continue;
    const offset = dv.getUint32(p + 4, true);
    const filesz = dv.getUint32(p + 16, true);
    const memsz = dv.getUint32(p + 20, true);
    const dst = (mem[seg++] ??= Buffer.alloc(memsz));
    file.copy(dst, 0, offset, offset + filesz);
    dst.fill(0, filesz, memsz);
  }
  const t2 = now();
  if (seg !== 5) throw new Error(`reference copied ${seg} segments, expected 5`);
  return { total: t2 - t0, read: t1 - t0, copy: t2 - t1 };
}

type BenchRproc = Awaited<ReturnType<typeof newRproc>>;

async function newRproc(dir: string) {
  const { Platform } = await import("../src/platform/platform.js");
  const { createRproc } = await import("../src/drivers/registry.js");
  return createRproc(Platform.parse(PLATFORM), undefined, { searchPath: [dir] });
}

/** rproc_boot timed from its begin to its end; request_firmware and load from their events. Shutdown is not timed. */
async function bootRound(rproc: BenchRproc): Promise<Round> {
  const at = new Map<string, number>();
  const off = rproc.events.on((e) => {
    if (e.phase === "begin" || e.phase === "end") at.set(`${e.step}:${e.phase}`, now());
  });
  const t0 = now();
  await rproc.boot();
  const t1 = now();
  off();
  const loaded = rproc.platform.memory.pageCount();
  await rproc.shutdown();
  if (loaded < (4 * SEG) / 4096) throw new Error(`boot materialised only ${loaded} pages`);
  const span = (step: string): number => at.get(`${step}:end`)! - at.get(`${step}:begin`)!;
  return { total: t1 - t0, read: span("request_firmware"), copy: span("load") };
}

interface SideResult {
  /** The first round: memory this process never touched (fresh buffers / a fresh platform). */
  cold: Round | undefined;
  /** Later rounds on the same memory: the reference reuses its buffers, the boot re-boots the same platform. */
  warm: Round[];
  /** Peak RSS after the cold round (getrusage maxRSS), before warm rounds could add garbage. */
  maxRssMB: number;
}

/** Child: one cold round, then `warm` warm rounds of one side, as JSON on stdout. */
async function side(kind: "copy" | "boot" | "idle", dir: string, warm: number): Promise<void> {
  const out: SideResult = { cold: undefined, warm: [], maxRssMB: 0 };
  if (kind === "copy") {
    const mem: Uint8Array[] = [];
    out.cold = copyRound(join(dir, FW), mem);
    out.maxRssMB = maxRssMB();
    for (let i = 0; i < warm; i++) {
      gc();
      out.warm.push(copyRound(join(dir, FW), mem));
    }
  } else {
    const rproc = await newRproc(dir);
    if (kind === "boot") {
      out.cold = await bootRound(rproc);
      out.maxRssMB = maxRssMB();
      for (let i = 0; i < warm; i++) {
        gc();
        out.warm.push(await bootRound(rproc));
      }
    } else {
      out.maxRssMB = maxRssMB();
    }
  }
  process.stdout.write(JSON.stringify(out) + "\n");
}

const SELF = fileURLToPath(import.meta.url);

/** A child running this file: compiled JS under plain node (`js` set), else as this process runs (tsx). */
function run(args: string[], js?: string): string {
  const argv = js === undefined ? [...process.execArgv, "--expose-gc", SELF, ...args] : ["--expose-gc", js, ...args];
  const r = spawnSync(process.execPath, argv, { encoding: "utf8", maxBuffer: 16 * MiB });
  if (r.status !== 0) throw new Error(`bench child ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function child(args: string[], js?: string): SideResult {
  return JSON.parse(run(args, js).trim().split("\n").pop()!) as SideResult;
}

/**
 * Compile the project (tsc, as `npm run build` does) into `out` and return
 * this bench's compiled path: `rproc` ships as JS, and tsx's loader (a hooks
 * worker thread) alone adds ~35 MB of RSS that no boot costs.
 */
function compile(out: string): string | undefined {
  const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
  const root = fileURLToPath(new URL("../", import.meta.url));
  // Type errors elsewhere in a tree under edit still emit; only a missing output counts.
  spawnSync(process.execPath, [tsc, "-p", root, "--outDir", out, "--declaration", "false", "--sourceMap", "false"], { encoding: "utf8" });
  const js = join(out, "bench", "boot.js");
  return existsSync(js) ? js : undefined;
}

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(argv: string[]): Promise<void> {
  const [mode, dir, n] = argv;
  if (mode === "--gen") return generate(dir!);
  if (mode === "--side-copy" || mode === "--side-boot" || mode === "--side-idle")
    return side(mode.slice("--side-".length) as "copy" | "boot" | "idle", dir!, Number(n));

  const opt = (name: string, dflt: number): number => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  const rounds = opt("--rounds", 9);
  const warm = opt("--warm", 4);
  const tmp = mkdtempSync(join(tmpdir(), "rproc-bench-"));
  try {
    const js = SELF.endsWith(".js") ? SELF : argv.includes("--no-compile") ? undefined : compile(join(tmp, "js"));
    run(["--gen", tmp], js);
    const imageBytes = readFileSync(join(tmp, FW)).byteLength;
    const imageMB = imageBytes / MiB;
    // One fresh process per sample, sides alternating: every cold round starts
    // on memory its process never touched, so first-touch page faults count
    // the same way on both sides, and drift hits both alike.
    const cold = { copy: [] as Round[], boot: [] as Round[] };
    const hot = { copy: [] as Round[], boot: [] as Round[] };
    const peak = { copy: 0, boot: 0 };
    for (let i = 0; i < rounds; i++) {
      for (const kind of ["copy", "boot"] as const) {
        const r = child([`--side-${kind}`, tmp, String(warm)], js);
        cold[kind].push(r.cold!);
        hot[kind].push(...r.warm);
        peak[kind] = Math.max(peak[kind], r.maxRssMB);
      }
    }
    const idle = child(["--side-idle", tmp, "0"], js).maxRssMB;

    const m = (rs: Round[], k: keyof Round): number => median(rs.map((r) => r[k]));
    const f = (x: number): string => x.toFixed(1).padStart(7);
    const row = (label: string, set: { copy: Round[]; boot: Round[] }, k: keyof Round, note = ""): string =>
      `${label.padEnd(30)}${f(m(set.copy, k))} ms ${f(m(set.boot, k))} ms  ${(m(set.boot, k) / m(set.copy, k)).toFixed(2).padStart(5)}${note}`;
    const budget = 2 * imageMB + 80;
    const runtime = js === undefined ? "under tsx" : "compiled JS under plain node";
    console.log(`image ${imageMB.toFixed(1)} MiB (${imageBytes} bytes), 5 PT_LOAD segments (one with ${BSS / 1024} KiB .bss); ${runtime}`);
    console.log(`cold: medians of ${rounds} fresh processes per side; warm: medians of ${rounds} x ${warm} later rounds on the same memory`);
    console.log(`${"".padEnd(30)}reference      boot  ratio`);
    console.log(row("cold  read firmware file", cold, "read"));
    console.log(row("cold  segments into memory", cold, "copy", "   (plain copy vs load step)"));
    console.log(row("cold  whole", cold, "total", "   (read+copy vs rproc_boot; target <= 2)"));
    console.log(row("warm  read firmware file", hot, "read"));
    console.log(row("warm  segments into memory", hot, "copy", "   (plain copy vs load step)"));
    console.log(row("warm  whole", hot, "total", "   (read+copy vs rproc_boot)"));
    console.log(`peak RSS (max over the cold rounds): reference ${peak.copy.toFixed(0)} MB, boot ${peak.boot.toFixed(0)} MB; idle with the boot's modules loaded ${idle.toFixed(0)} MB`);
    console.log(`boot peak RSS ${peak.boot.toFixed(0)} MB vs budget 2 x image + 80 = ${budget.toFixed(0)} MB: ${peak.boot <= budget ? "within" : "OVER"}`);
    if (js !== undefined && !SELF.endsWith(".js")) {
      const tsxBoot = child(["--side-boot", tmp, "0"]).maxRssMB;
      const tsxIdle = child(["--side-idle", tmp, "0"]).maxRssMB;
      console.log(`for comparison under tsx (dev loader): boot ${tsxBoot.toFixed(0)} MB, idle ${tsxIdle.toFixed(0)} MB`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main(process.argv.slice(2));
