/**
 * The kernel's text parsers for attribute writes, over the bytes of one
 * write(2). Each mirrors a C function exactly, including where C strings end
 * at the first NUL: sysfs_streq (lib/string.c), strncmp over a buffer that is
 * not NUL-terminated (the debugfs and cdev handlers), kstrtouint base 0
 * (lib/kstrtox.c) and simple_strtol (lib/vsprintf.c).
 */
import { RprocError } from "../errors.js";

/** The C string a kernel handler sees in a NUL-terminated copy: everything before the first NUL. */
export function cString(buf: Uint8Array): string {
  const nul = buf.indexOf(0);
  return Buffer.from(buf.buffer, buf.byteOffset, nul < 0 ? buf.length : nul).toString("latin1");
}

/** sysfs_streq(s1, s2): equal, except one trailing newline on either side is ignored. */
export function sysfsStreq(s1: string, s2: string): boolean {
  let i = 0;
  while (i < s1.length && i < s2.length && s1[i] === s2[i]) i++;
  const a = s1.slice(i);
  const b = s2.slice(i);
  if (a === b) return true;
  if (a === "" && b === "\n") return true;
  if (a === "\n" && b === "") return true;
  return false;
}

/**
 * strncmp(buf, word, n) == 0 where `buf` holds exactly n bytes (no terminator
 * beyond them) and `word` is a C literal: past its end it reads as NUL, and a
 * NUL reached in both stops the comparison.
 */
export function strncmpEq(buf: Uint8Array, word: string, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const a = i < buf.length ? buf[i]! : 0;
    const b = i < word.length ? word.charCodeAt(i) : 0;
    if (a !== b) return false;
    if (a === 0) return true;
  }
  return true;
}

/**
 * The debugfs word handlers (rproc_recovery_write, rproc_coredump_write):
 * `count` must be 1..max, a final '\n' becomes NUL, then the words are tried
 * with strncmp(buf, word, count) in order. Returns the matched word or
 * undefined (the caller's EINVAL).
 */
export function debugfsWord(buf: Uint8Array, words: readonly string[], max: number, attr: string): string | undefined {
  const count = buf.length;
  if (count < 1 || count > max)
    throw new RprocError("EINVAL", `${attr}: write of ${count} bytes (1..${max} accepted)`, { field: attr, value: count, limit: max });
  const copy = Uint8Array.from(buf);
  if (copy[count - 1] === 0x0a) copy[count - 1] = 0;
  return words.find((w) => strncmpEq(copy, w, count));
}

/** rproc_cdev_write's parse: 1..10 bytes, no newline stripping, strncmp prefix over start, stop, detach. */
export function cdevWord(buf: Uint8Array): "start" | "stop" | "detach" | undefined {
  const len = buf.length;
  if (len === 0 || len > 10) return undefined;
  for (const w of ["start", "stop", "detach"] as const) if (strncmpEq(buf, w, len)) return w;
  return undefined;
}

const KSTRTO_BUF = 1 + 32 + 1 + 1; // kstrto_from_user for unsigned int: sign, base-2 digits, newline, NUL

/**
 * kstrtouint_from_user(buf, count, 0, &v): at most KSTRTO_BUF-1 bytes are
 * copied; an optional '+', base from the prefix (0x → 16, 0 → 8, else 10),
 * at least one digit, one optional '\n', nothing after. EINVAL for text,
 * ERANGE for a value beyond 32 bits.
 */
export function kstrtouintFromUser(buf: Uint8Array, field: string): number {
  const s = cString(buf.subarray(0, Math.min(buf.length, KSTRTO_BUF - 1)));
  let i = s.startsWith("+") ? 1 : 0;
  let base = 10;
  if (s[i] === "0" && (s[i + 1] === "x" || s[i + 1] === "X") && /^[0-9a-fA-F]$/.test(s[i + 2] ?? "")) {
    base = 16;
    i += 2;
  } else if (s[i] === "0") base = 8;
  let v = 0n;
  let digits = 0;
  let overflow = false;
  for (; i < s.length; i++, digits++) {
    const d = parseInt(s[i]!, 16);
    if (Number.isNaN(d) || d >= base) break;
    v = v * BigInt(base) + BigInt(d);
    if (v > 0xffffffffffffffffn) overflow = true;
  }
  if (digits === 0) throw new RprocError("EINVAL", `${field}: not a number: ${JSON.stringify(s)}`, { field, value: s });
  if (s[i] === "\n") i++;
  if (i !== s.length) throw new RprocError("EINVAL", `${field}: not a number: ${JSON.stringify(s)}`, { field, value: s });
  if (overflow || v > 0xffffffffn) throw new RprocError("ERANGE", `${field}: ${s.trim()} does not fit in 32 bits`, { field, value: s, limit: 0xffffffff });
  return Number(v);
}

/** simple_strtol(buf, NULL, 10): optional '-', decimal digits up to the first other byte; no digits → 0. */
export function simpleStrtol(text: string): number {
  const m = /^(-?)([0-9]*)/.exec(text)!;
  const n = m[2] ? Number(m[2].slice(0, 20)) : 0;
  return m[1] ? -n : n;
}

/** name_contains_dotdot() from drivers/base/firmware_loader/main.c (v6.11, "Block path traversal"). */
export function nameContainsDotdot(name: string): boolean {
  return name === ".." || name.startsWith("../") || name.includes("/../") || (name.length >= 3 && name.endsWith("/.."));
}
