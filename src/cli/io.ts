/** What a CLI command may touch, so commands are testable without a real process. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** True when stdout is a terminal (progress output allowed). */
  isTTY: boolean;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** Exit statuses shared by every command. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
