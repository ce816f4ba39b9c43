/** A deterministic generator (mulberry32: small, fast, and the same everywhere), so that a failing case can be replayed. */
export function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
  const ascii = (length: number) => String.fromCharCode(...Array.from({ length }, () => int(0x20, 0x7e)));
  const bytes = (length: number) => Uint8Array.from({ length }, () => int(0, 255));
  return { next, int, pick, ascii, bytes };
}
