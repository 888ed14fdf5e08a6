import { resolve } from "node:path";
import { isPlatformPath } from "../platform/platform.js";

/**
 * A `--platform` value: a bundled platform name is passed on as given; a
 * file (Platform's own path rule) is resolved against the command's working
 * directory, which Platform.load does not know.
 */
export function platformArg(arg: string, cwd: string): string {
  return isPlatformPath(arg) ? resolve(cwd, arg) : arg;
}
