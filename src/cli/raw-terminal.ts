/**
 * Puts the local terminal in raw mode the way ssh, kubectl and docker do, and returns the function
 * that puts it back as it was (once; later calls do nothing). It also runs at exit, so that no way
 * out of bunker short of SIGKILL leaves the terminal raw.
 *
 * `setRawMode` (Bun's, like Node's) leaves output processing (OPOST, ONLCR) on: a bare `\n` from
 * a remote program that turned it off would still arrive as `\r\n`, and every `\r\n` of the remote
 * terminal as `\r\r\n`. The remote PTY already did that processing, so `stty -opost` turns it off
 * here. Without a working `stty` the terminal is raw with OPOST on, as setRawMode leaves it.
 */
export function enterRawMode(stdin: NodeJS.ReadStream): () => void {
  const saved = runStty(["-g"]);
  stdin.setRawMode(true);
  if (saved !== undefined) runStty(["-opost"]);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.off("exit", restore);
    try {
      stdin.setRawMode(false);
    } finally {
      if (saved !== undefined) runStty([saved]);
    }
  };
  process.on("exit", restore);
  return restore;
}

/** Runs stty on the terminal of stdin; its output, or undefined when it failed or is missing. */
function runStty(args: string[]): string | undefined {
  try {
    const result = Bun.spawnSync(["stty", ...args], { stdin: "inherit", stdout: "pipe", stderr: "ignore" });
    return result.success ? result.stdout.toString().trim() : undefined;
  } catch {
    return undefined;
  }
}
