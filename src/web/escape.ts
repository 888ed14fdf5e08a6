/**
 * Escaping for everything the page shows: firmware strings (section and
 * carveout names, trace text, channel names) are hostile input, so every
 * string goes through one of these before it reaches HTML, SVG or a script.
 */
const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text or attribute value: the five HTML specials, and control characters other than tab/newline made visible. */
export function esc(value: unknown): string {
  return String(value)
    .replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/**
 * JSON inside <script type="application/json">: `<` `>` `&` and the JS line
 * separators as \u escapes, so no firmware string can close the element
 * (`</script>`) or open a comment (`<!--`).
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** 0x-prefixed lower-case hex, as the CLI prints addresses. */
export function hx(v: number): string {
  return "0x" + v.toString(16);
}

/** A byte count as people read it: 4 KiB, 256 MiB, 140 B. */
export function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    u++;
  }
  if (u === 0 && n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${v} ${units[u]}`;
}

/** "0x10040000–0x10040fff (4 KiB)": the exact, inclusive range shown on hover. */
export function rangeText(start: number, size: number): string {
  return size > 0 ? `${hx(start)}–${hx(start + size - 1)} (${bytes(size)})` : `${hx(start)} (empty)`;
}
