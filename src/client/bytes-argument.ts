/**
 * What a value is, for a TypeError about data that should have been bytes: `null`, `number`,
 * `ArrayBuffer`, `Array`, ... (`typeof` alone says "object" for most of what is passed by mistake).
 */
export function describeKind(value: unknown): string {
  if (value === null) return "null";
  if (typeof value !== "object") return typeof value;
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "" ? name : "object";
}
