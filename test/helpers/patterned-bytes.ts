/** Bytes that no run of zeros would stand in for: a misplaced or missing chunk changes what is read back. */
export function patternedBytes(length: number, seed = 0): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (i * 7919 + seed) & 255;
  return bytes;
}
