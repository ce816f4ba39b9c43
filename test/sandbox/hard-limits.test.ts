import { expect, test } from "bun:test";
import { limitAboveHard, readHardLimits } from "../../src/sandbox/hard-limits.ts";
import { DEFAULT_RLIMITS } from "../../src/sandbox/rlimits.ts";

const LIMITS_TEXT = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max file size             unlimited            unlimited            bytes
Max processes             96365                96365                processes
Max open files            1024                 2048                 files
Max locked memory         8388608              8388608              bytes
Max address space         unlimited            unlimited            bytes
`;

test("reads the hard column of /proc/<pid>/limits, unlimited as Infinity", () => {
  expect(readHardLimits(LIMITS_TEXT)).toEqual({ cpuSeconds: Infinity, fileSizeBytes: Infinity, processes: 96365, openFiles: 2048, addressSpaceBytes: Infinity });
  expect(readHardLimits("")).toEqual({});
});

test("names the first limit above its hard limit, with its flag; none when all fit or a limit is unknown", () => {
  expect(limitAboveHard(DEFAULT_RLIMITS, readHardLimits(LIMITS_TEXT))).toBe(
    "--limit-open-files is 4096 (the default, unless set) and above the server's own hard limit of 2048 (ulimit -H), which commands cannot raise: pass --limit-open-files 2048 or less, or raise the hard limit",
  );
  expect(limitAboveHard({ ...DEFAULT_RLIMITS, openFiles: 2048 }, readHardLimits(LIMITS_TEXT))).toBeUndefined();
  expect(limitAboveHard(DEFAULT_RLIMITS, {})).toBeUndefined();
  expect(limitAboveHard({ ...DEFAULT_RLIMITS, processes: 100_000 }, { processes: 96365 })).toStartWith("--limit-processes is 100000 (the default, unless set) and above");
});

test("this process's own limits are readable", () => {
  expect(Object.keys(readHardLimits())).toHaveLength(5);
});
