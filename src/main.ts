#!/usr/bin/env bun
import { ignoresSignal } from "./common/proc.ts";
import { printOutput } from "./cli/broken-pipe.ts";
import { MAIN_HELP } from "./cli/help.ts";
import { runServe } from "./cli/serve.ts";
import { UsageError } from "./cli/usage-error.ts";
import { COMMIT, VERSION } from "./version.ts";

/** The binary's entry: argv to a command. The only place that calls process.exit. */
async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  // The binary starts with the JIT's tier-up thresholds raised for serve's startup (build.ts,
  // jitPolicy; serve lowers them once listening). Every other command runs with the normal policy.
  if (command !== "serve") Bun.unsafe.setJITPolicy(1);
  switch (command) {
    case "--version":
    case "-v":
      process.exitCode = await printOutput(`bunker ${VERSION} (${COMMIT})\n`);
      return;
    case undefined:
    case "--help":
    case "-h":
    case "help":
      process.exitCode = await printOutput(MAIN_HELP);
      return;
    case "serve": {
      const outcome = await runServe(rest, process.env);
      if (!outcome) return;
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        const log = outcome.logger;
        log.info("stopping", { signal }, `bunker: ${signal}, stopping: closing sessions and killing their processes`);
        outcome.shutdown().then(
          () => {
            log.info("stopped", {}, "bunker: stopped");
            log.flush();
            process.exit(0);
          },
          (error: unknown) => {
            log.error("shutdown.failed", { error: (error as Error).message }, `bunker: shutdown failed: ${(error as Error).message}`);
            log.flush();
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
      // A hangup (the terminal closed, an ssh session dropped) stops the server as cleanly as
      // SIGTERM: its default action killed it on the spot, every process tree and workspace left
      // behind (found by a crash hunt). bunker has nothing to reload. Unless it was started with
      // SIGHUP ignored (`nohup bunker serve &`): a handler would undo what nohup asked for.
      if (ignoresSignal("self", "SIGHUP") !== true) process.on("SIGHUP", () => stop("SIGHUP"));
      outcome.announce();
      return;
    }
    // The other commands load on demand, so that `serve` starts without their code (the doctor's
    // execa alone cost a compiled binary ~60 ms of startup).
    case "doctor": {
      const { runDoctor } = await import("./cli/doctor.ts");
      process.exitCode = await runDoctor(rest, process.env);
      return;
    }
    case "config": {
      const { runConfigCommand } = await import("./cli/config.ts");
      process.exitCode = await runConfigCommand(rest, process.env);
      return;
    }
    // exit at once: a forwarded stdin may still hold the event loop open.
    case "exec": {
      const { runExecCommand } = await import("./cli/exec.ts");
      process.exit(await runExecCommand(rest, process.env));
    }
    case "shell": {
      const { runShellCommand } = await import("./cli/shell.ts");
      process.exit(await runShellCommand(rest, process.env));
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; try bunker --help`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    process.stderr.write(`bunker: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`bunker: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
