import type { Stats } from "node:fs";

/** The kind of a file in words, for messages that refuse it. */
export function fileTypeName(st: Stats): string {
  if (st.isFile()) return "regular file";
  if (st.isDirectory()) return "directory";
  if (st.isFIFO()) return "FIFO";
  if (st.isCharacterDevice()) return "character device";
  if (st.isBlockDevice()) return "block device";
  if (st.isSocket()) return "socket";
  if (st.isSymbolicLink()) return "symbolic link";
  return "special file";
}
