/** The PATH commands get unless the request sets one. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The whole environment of a command: a few defaults, then the request's own variables. Nothing of
 * the server's environment is inherited, so no secret of the server can reach a command.
 */
export function buildExecEnv(options: {
  home: string;
  tempDir: string;
  requested: Record<string, string> | undefined;
  /** On a pseudo-terminal, programs may use colours and cursor movement. */
  terminal?: boolean;
}): Record<string, string> {
  return {
    PATH: DEFAULT_PATH,
    HOME: options.home,
    TMPDIR: options.tempDir,
    LANG: "C.UTF-8",
    TERM: options.terminal ? "xterm-256color" : "dumb",
    ...options.requested,
  };
}
