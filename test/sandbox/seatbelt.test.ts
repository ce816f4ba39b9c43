import { describe, expect, test } from "bun:test";
import { buildSeatbeltProfile } from "../../src/sandbox/seatbelt-profile.ts";
import { probeSeatbelt, toSeatbeltPath } from "../../src/sandbox/seatbelt.ts";

/** The top-level forms of an SBPL text, in order; throws on unbalanced parentheses. */
function topLevelForms(profile: string): string[] {
  const forms: string[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  let inComment = false;
  for (let i = 0; i < profile.length; i++) {
    const char = profile[i];
    if (inComment) {
      if (char === "\n") inComment = false;
    } else if (inString) {
      if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === ";") {
      inComment = true;
    } else if (char === "(") {
      if (depth === 0) start = i;
      depth++;
    } else if (char === ")") {
      depth--;
      if (depth < 0) throw new Error(`unbalanced ")" at offset ${i}`);
      if (depth === 0) forms.push(profile.slice(start, i + 1));
    }
  }
  if (depth !== 0 || inString) throw new Error("profile ends inside a form or a string");
  return forms;
}

const PROFILES = {
  networkDenied: buildSeatbeltProfile({ allowNetwork: false }),
  networkAllowed: buildSeatbeltProfile({ allowNetwork: true }),
  everyListNetworkDenied: buildSeatbeltProfile({ allowNetwork: false, allowReadCount: 2, allowWriteCount: 1, protectCount: 2, denyReadCount: 2 }),
  everyListNetworkAllowed: buildSeatbeltProfile({ allowNetwork: true, allowReadCount: 1, allowWriteCount: 1, protectCount: 1 }),
  readOnlyEveryList: buildSeatbeltProfile({ allowNetwork: false, allowReadCount: 1, allowWriteCount: 2, protectCount: 1, readOnly: true }),
};

/** The names of every `(param "NAME")` in a profile, in order of first use. */
function paramNames(profile: string): string[] {
  return [...new Set([...profile.matchAll(/\(param "([A-Z_0-9]+)"\)/g)].map((match) => match[1] ?? ""))];
}

describe("buildSeatbeltProfile", () => {
  test("matches the reviewed profile when the network is denied", () => {
    expect(PROFILES.networkDenied).toMatchSnapshot();
  });

  test("matches the reviewed profile when the network is allowed", () => {
    expect(PROFILES.networkAllowed).toMatchSnapshot();
  });

  test("matches the reviewed profile with paths in every list", () => {
    expect(PROFILES.everyListNetworkDenied).toMatchSnapshot();
  });

  test("is a balanced list of forms that starts closed by default", () => {
    for (const profile of Object.values(PROFILES)) {
      const forms = topLevelForms(profile);
      expect(forms.slice(0, 2)).toEqual(["(version 1)", "(deny default)"]);
    }
  });

  test("opens every rule group with a comment saying why", () => {
    for (const profile of Object.values(PROFILES)) {
      const groups = profile.trim().split("\n\n").slice(1);
      for (const group of groups) expect(group).toMatch(/^; \S/);
    }
  });

  test("reaches every path only through parameters", () => {
    for (const profile of Object.values(PROFILES)) {
      expect(profile).toContain('(subpath (param "WORKSPACE"))');
      expect(profile).not.toContain("/Users");
      expect(profile).not.toContain("TMPDIR");
    }
  });

  test("refers to exactly the parameters of each list, in order, and adds no rule for an empty one", () => {
    expect(paramNames(PROFILES.everyListNetworkDenied)).toEqual(["WORKSPACE", "ALLOW_READ_0", "ALLOW_READ_1", "ALLOW_WRITE_0", "PROTECT_0", "PROTECT_1", "DENY_READ_0", "DENY_READ_1"]);
    expect(paramNames(PROFILES.everyListNetworkAllowed)).toEqual(["WORKSPACE", "ALLOW_READ_0", "ALLOW_WRITE_0", "PROTECT_0"]);
    expect(paramNames(PROFILES.networkDenied)).toEqual(["WORKSPACE"]);
    expect(buildSeatbeltProfile({ allowNetwork: false, allowReadCount: 0, allowWriteCount: 0, protectCount: 0 })).toBe(PROFILES.networkDenied);
  });

  test("lets an allowed read path be read and its code loaded, but not written", () => {
    const forms = topLevelForms(PROFILES.everyListNetworkDenied);
    expect(forms.filter((form) => form.includes("ALLOW_READ_"))).toEqual([
      '(allow file-read* file-map-executable\n  (subpath (param "ALLOW_READ_0"))\n  (subpath (param "ALLOW_READ_1")))',
      '(allow file-read-metadata\n  (path-ancestors (param "ALLOW_READ_0"))\n  (path-ancestors (param "ALLOW_READ_1")))',
    ]);
  });

  test("rejects a list size that is not a whole number with a TypeError that quotes it", () => {
    expect(() => buildSeatbeltProfile({ allowNetwork: false, protectCount: 1.5 })).toThrow(new TypeError("protectCount must be a whole number, got 1.5"));
    expect(() => buildSeatbeltProfile({ allowNetwork: false, allowReadCount: -1 })).toThrow(new TypeError("allowReadCount must be a whole number, got -1"));
  });

  test("denies the whole network when allowNetwork is false", () => {
    for (const profile of [PROFILES.networkDenied, PROFILES.everyListNetworkDenied]) {
      const forms = topLevelForms(profile);
      expect(forms).toContain("(deny network*)");
      expect(forms.filter((form) => /^\(allow (network|system-socket)/.test(form))).toEqual([]);
    }
  });

  test("allows IP traffic, sockets and DNS when allowNetwork is true", () => {
    for (const profile of [PROFILES.networkAllowed, PROFILES.everyListNetworkAllowed]) {
      const forms = topLevelForms(profile);
      expect(forms).not.toContain("(deny network*)");
      expect(forms.filter((form) => /^\(allow (network|system-socket)/.test(form))).toEqual([
        '(allow network-outbound (remote ip "*:*"))',
        '(allow network-inbound (local ip "*:*"))',
        '(allow network-bind (local ip "*:*"))',
        "(allow system-socket)",
        '(allow network-outbound (remote unix-socket (path-literal "/private/var/run/mDNSResponder")))',
      ]);
    }
  });

  test("denies Launch Services and Apple Events after every mach allowance, whatever the network", () => {
    for (const profile of Object.values(PROFILES)) {
      const forms = topLevelForms(profile);
      const denial = forms.findIndex((form) => form.startsWith("(deny mach-lookup"));
      const lastAllowance = forms.findLastIndex((form) => form.startsWith("(allow mach-lookup"));
      expect(denial).toBeGreaterThan(lastAllowance);
      expect(forms[denial]).toContain('(global-name "com.apple.coreservices.launchservicesd")');
      expect(forms[denial]).toContain('(global-name-regex #"^com\\.apple\\.lsd\\.")');
      expect(forms[denial]).toContain('(global-name "com.apple.coreservices.appleevents")');
      expect(forms.at(-1)).toBe("(deny appleevent-send)");
      for (const allowance of forms.filter((form) => form.startsWith("(allow mach-lookup"))) {
        expect(allowance).not.toMatch(/launchservices|lsd|appleevents|pasteboard|cfprefsd/);
      }
    }
  });

  test("lets nothing but the workspace and the allowed write paths be written", () => {
    const deviceWrites = [
      '(allow file-read* file-write-data (literal "/dev/null") (literal "/dev/zero"))',
      '(allow file-read* file-write-data (subpath "/dev/fd"))',
      '(allow file-read* file-write-data file-ioctl (literal "/dev/tty"))',
      '(allow file-read* file-write* (subpath (param "WORKSPACE")))',
    ];
    const writesOf = (profile: string) => topLevelForms(profile).filter((form) => /^\(allow [^()]*file-write/.test(form));
    for (const profile of [PROFILES.networkDenied, PROFILES.networkAllowed]) expect(writesOf(profile)).toEqual(deviceWrites);
    for (const profile of [PROFILES.everyListNetworkDenied, PROFILES.everyListNetworkAllowed]) {
      expect(writesOf(profile)).toEqual([...deviceWrites, '(allow file-read* file-write* file-map-executable\n  (subpath (param "ALLOW_WRITE_0")))']);
    }
  });

  test("matches the reviewed profile of a read-only exec", () => {
    expect(PROFILES.readOnlyEveryList).toMatchSnapshot();
  });

  test("lets a read-only exec write nothing but its private temp dir, and still read and load the workspace and the allowed write paths", () => {
    const forms = topLevelForms(PROFILES.readOnlyEveryList);
    const writes = forms.filter((form) => /^\(allow [^()]*file-write\*/.test(form));
    expect(writes).toEqual(['(allow file-read* file-write* (subpath (param "TEMP_DIR")))']);
    expect(forms).toContain('(allow file-read* file-map-executable (subpath (param "WORKSPACE")))');
    expect(forms).toContain('(allow file-read* file-map-executable\n  (subpath (param "ALLOW_WRITE_0"))\n  (subpath (param "ALLOW_WRITE_1")))');
    // The protected paths stay denied as in every profile; the network as asked.
    expect(forms.filter((form) => form.includes("PROTECT_0"))).toHaveLength(2);
    expect(forms).toContain("(deny network*)");
    // Writable exec profiles never mention TEMP_DIR: the workspace around it is writable already.
    for (const profile of [PROFILES.networkDenied, PROFILES.everyListNetworkAllowed]) expect(paramNames(profile)).not.toContain("TEMP_DIR");
  });

  test("denies writes to protected paths after every allowance, and creating or moving them or their parents", () => {
    for (const profile of [PROFILES.everyListNetworkDenied, PROFILES.everyListNetworkAllowed]) {
      const forms = topLevelForms(profile);
      const protectedForms = forms.filter((form) => form.includes("PROTECT_"));
      expect(protectedForms).toHaveLength(2);
      expect(protectedForms[0]).toStartWith('(deny file-write*\n  (subpath (param "PROTECT_0"))');
      expect(protectedForms[1]).toStartWith('(deny file-write-create file-write-unlink\n  (path-ancestors (param "PROTECT_0"))');
      const firstDenial = forms.indexOf(protectedForms[0] ?? "");
      const lastAllowance = forms.findLastIndex((form) => form.startsWith("(allow") && form.includes("file-"));
      expect(firstDenial).toBeGreaterThan(lastAllowance);
    }
    expect(topLevelForms(PROFILES.everyListNetworkDenied).find((form) => form.startsWith("(deny file-write*"))).toBe(
      '(deny file-write*\n  (subpath (param "PROTECT_0"))\n  (subpath (param "PROTECT_1")))',
    );
  });

  test("denies reading and loading the denied paths after every allowance", () => {
    const forms = topLevelForms(PROFILES.everyListNetworkDenied);
    const denial = forms.findIndex((form) => form.includes("DENY_READ_0"));
    expect(forms[denial]).toBe('(deny file-read* file-map-executable\n  (subpath (param "DENY_READ_0"))\n  (subpath (param "DENY_READ_1")))');
    expect(denial).toBeGreaterThan(forms.findLastIndex((form) => form.startsWith("(allow") && form.includes("file-read")));
  });

  test("puts each carve-out after the allowance it narrows, since the last matching rule wins", () => {
    const forms = topLevelForms(PROFILES.networkDenied);
    const systemReads = forms.findIndex((form) => form.startsWith("(allow file-read*") && form.includes('(subpath "/System")'));
    const carveOuts = ['(subpath "/usr/local/var")', '(subpath "/System/Volumes")'].map((filter) =>
      forms.findIndex((form) => form.startsWith("(deny file-read*") && form.includes(filter)),
    );
    for (const carveOut of carveOuts) expect(carveOut).toBeGreaterThan(systemReads);
  });

  test("never grants hard links or clones, which would alias an outside file into the workspace", () => {
    for (const profile of Object.values(PROFILES)) {
      expect(profile).not.toMatch(/file-link|file-clone|\(allow file\*|\(allow default/);
    }
  });
});

describe("toSeatbeltPath", () => {
  test("puts /tmp, /var and /etc under /private, where seatbelt sees them", () => {
    expect(toSeatbeltPath("/var/folders/ab/xyz/T/bunker-1")).toBe("/private/var/folders/ab/xyz/T/bunker-1");
    expect(toSeatbeltPath("/tmp")).toBe("/private/tmp");
    expect(toSeatbeltPath("/etc/")).toBe("/private/etc");
  });

  test("leaves other paths as they are, minus trailing slashes and dot segments", () => {
    expect(toSeatbeltPath("/private/tmp/x")).toBe("/private/tmp/x");
    expect(toSeatbeltPath("/tmpfiles/x")).toBe("/tmpfiles/x");
    expect(toSeatbeltPath("/Users/alice/./ws/")).toBe("/Users/alice/ws");
  });
});

describe.skipIf(process.platform === "darwin")("probeSeatbelt off macOS", () => {
  test("reports that sandbox-exec exists only on macOS without running anything", async () => {
    expect(await probeSeatbelt()).toEqual({ ok: false, reason: "sandbox-exec exists only on macOS" });
  });
});

