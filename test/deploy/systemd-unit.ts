/** A systemd unit file read into sections of settings, for tests that check what it says. */

/** Every value of each setting, in file order (a setting may repeat, and an empty value resets). */
export type UnitSection = Map<string, string[]>;

/**
 * Parses the unit syntax the deploy files use: `[Section]` headers, `Key=Value` lines, `#` and `;`
 * comments. Line continuations are not used there and are refused, so that nothing is misread.
 */
export function parseUnitFile(text: string): Map<string, UnitSection> {
  const sections = new Map<string, UnitSection>();
  let current: UnitSection | undefined;
  for (const [index, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.endsWith("\\")) throw new Error(`line ${index + 1}: continuation lines are not supported here`);
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = new Map();
      sections.set(header[1]!, current);
      continue;
    }
    const equals = line.indexOf("=");
    if (!current || equals <= 0) throw new Error(`line ${index + 1}: not a setting: ${JSON.stringify(raw)}`);
    const key = line.slice(0, equals).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(equals + 1).trim()]);
  }
  return sections;
}

/** The value in force for a setting (its last assignment), or undefined when it is not set. */
export function lastValue(section: UnitSection | undefined, key: string): string | undefined {
  return section?.get(key)?.at(-1);
}
