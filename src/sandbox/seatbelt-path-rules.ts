/**
 * The rule groups of the profile's path lists (--allow-read, --allow-write, protected paths,
 * --deny-read): each path reaches the profile only as a `(param "<PREFIX>_<i>")`, so the text
 * depends on how many paths each list holds, never on the paths (see seatbelt-profile.ts).
 */

/** One rule group: a one-line comment saying why, then its rules. */
export interface RuleGroup {
  why: string;
  rules: string[];
}

/** The parameter name prefix of each path list; parameter i of a list is `<prefix>_<i>`. */
export const SEATBELT_LIST_PARAMS = {
  allowRead: "ALLOW_READ",
  allowWrite: "ALLOW_WRITE",
  protect: "PROTECT",
  denyRead: "DENY_READ",
} as const;

/** The names of the first `count` parameters of a list: ALLOW_READ_0, ALLOW_READ_1, .... */
export function seatbeltParamNames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}_${index}`);
}

/** `(<head>` and one filter per parameter, each on its own line: `(subpath (param "PROTECT_0"))`. */
function ruleOverParams(head: string, filter: string, names: readonly string[]): string {
  return [`(${head}`, ...names.map((name) => `  (${filter} (param "${name}"))`)].join("\n") + ")";
}

export function allowReadGroups(count: number): RuleGroup[] {
  if (count === 0) return [];
  const names = seatbeltParamNames(SEATBELT_LIST_PARAMS.allowRead, count);
  return [
    {
      why: "Host paths the operator allowed to read (--allow-read): read and load code from, never write; their parents only stat.",
      rules: [ruleOverParams("allow file-read* file-map-executable", "subpath", names), ruleOverParams("allow file-read-metadata", "path-ancestors", names)],
    },
  ];
}

export function allowWriteGroups(count: number, readOnly: boolean): RuleGroup[] {
  if (count === 0) return [];
  const names = seatbeltParamNames(SEATBELT_LIST_PARAMS.allowWrite, count);
  if (readOnly) {
    return [
      {
        why: "Host paths the operator allowed to write (--allow-write), read-only for a read-only exec: read and load code from; their parents only stat.",
        rules: [ruleOverParams("allow file-read* file-map-executable", "subpath", names), ruleOverParams("allow file-read-metadata", "path-ancestors", names)],
      },
    ];
  }
  return [
    {
      why: "Host paths the operator allowed to write (--allow-write): like the workspace; their parents only stat.",
      rules: [
        ruleOverParams("allow file-read* file-write* file-map-executable", "subpath", names),
        ruleOverParams("allow file-read-metadata", "path-ancestors", names),
      ],
    },
  ];
}

export function protectGroups(count: number): RuleGroup[] {
  if (count === 0) return [];
  const names = seatbeltParamNames(SEATBELT_LIST_PARAMS.protect, count);
  return [
    {
      why: "Protected paths (.git/hooks, .git/config, --protect) after every file allowance: read-only. Seatbelt matches paths, not files, so they and their parents can neither be moved away nor be created.",
      rules: [ruleOverParams("deny file-write*", "subpath", names), ruleOverParams("deny file-write-create file-write-unlink", "path-ancestors", names)],
    },
  ];
}

export function denyReadGroups(count: number): RuleGroup[] {
  if (count === 0) return [];
  const names = seatbeltParamNames(SEATBELT_LIST_PARAMS.denyRead, count);
  return [
    {
      why: "Host paths the operator denied (--deny-read) and the server's own secrets (its config file, its TLS key), after every file allowance: neither read nor loaded.",
      rules: [ruleOverParams("deny file-read* file-map-executable", "subpath", names)],
    },
  ];
}
