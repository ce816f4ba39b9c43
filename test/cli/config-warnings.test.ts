// Audit: `bunker config` prints "the settings serve would run with", yet kept quiet about what serve
// warns of at startup: a misspelt BUNKER_ variable (ignored), a readable file holding the token, an
// insecure bind. The one command meant to debug a configuration hid the likeliest mistake.
import { describe, expect, test } from "bun:test";
import { renderConfigCommand } from "../../src/cli/config.ts";

describe("bunker config", () => {
  test("says on stderr that a BUNKER_ variable naming no setting is ignored, as serve does", () => {
    const { stdout, stderr } = renderConfigCommand([], { BUNKER_MAX_EXECZ: "4" });
    expect(JSON.parse(stdout).maxExecs).toBe(64);
    expect(stderr).toBe("bunker: BUNKER_MAX_EXECZ is not a setting of bunker serve (did you mean BUNKER_MAX_EXECS?); it is ignored\n");
  });

  test("passes on serve's warning about a bind without TLS", () => {
    const { stderr } = renderConfigCommand(["--host", "0.0.0.0", "--insecure-bind"], {});
    expect(stderr).toBe("bunker: WARNING: listening on 0.0.0.0 without TLS (--insecure-bind): tokens and output cross the network in clear text unless a proxy in front ends TLS\n");
  });

  test("--sources says it too", () => {
    expect(renderConfigCommand(["--sources"], { BUNKER_MAX_EXECZ: "4" }).stderr).toBe(
      "bunker: BUNKER_MAX_EXECZ is not a setting of bunker serve (did you mean BUNKER_MAX_EXECS?); it is ignored\n",
    );
  });
});
