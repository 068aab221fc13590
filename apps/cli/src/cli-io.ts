/** What the command reads: the process environment, standard input, and where it writes its answer. */
export interface CliIo {
  env: NodeJS.ProcessEnv;
  args: string[];
  /** The whole of standard input (for `--password-stdin`). */
  readStdin(): Promise<string>;
  out(line: string): void;
  /**
   * Writes to standard output and resolves once the stream takes more (backpressure: a slow reader slows the
   * command, never its memory). Rejects when the output fails (a full disk); a reader that went away (EPIPE)
   * ends the process quietly instead (main.ts).
   */
  write(text: string): Promise<void>;
}

/** Thrown for what an operator must fix; the message is the whole answer (exit code 1, no stack). */
export class CliError extends Error {
  override readonly name = 'CliError';
}
