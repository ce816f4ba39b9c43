/**
 * bunker's own server, started as `bunker serve` is, but with the core bwrap policy only
 * (lib/core-policy.ts): what the hardening costs per exec, next to the default server in the echo
 * benchmark. Not something the binary can do; always runs from source.
 * Usage: bun bunker-core-policy.ts serve [serve flags] (the arguments `bunker` would take).
 */
import { runServe } from "../../src/cli/serve.ts";
import { coreBwrapSandbox } from "../lib/core-policy.ts";

const [command, ...args] = process.argv.slice(2);
if (command !== "serve") throw new Error(`usage: bunker-core-policy.ts serve [flags], not ${JSON.stringify(command)}`);
const outcome = await runServe(args, process.env, { adjustSandbox: coreBwrapSandbox });
if (outcome) {
  process.on("SIGTERM", () => {
    outcome.shutdown().then(() => process.exit(0), () => process.exit(1));
  });
  outcome.announce();
}
