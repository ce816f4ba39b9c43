/** Interleaved sampling: every contender takes a sample in turn, so that noise hits all of them alike. */
import { percentiles, medianPercentiles, type Percentiles } from "../stats.ts";

/** One way of doing the measured thing, timed per sample. */
export interface Contender {
  id: string;
  /** Does the thing once and returns how long it took, in milliseconds. */
  sample(): Promise<number>;
}

export interface RoundsOptions {
  rounds: number;
  samplesPerRound: number;
  /** Samples per contender before the first round, thrown away. */
  warmup: number;
  onRound?(round: number): void;
}

/**
 * Runs `rounds` rounds of `samplesPerRound` samples of every contender, interleaved sample by
 * sample with the order rotated each time, and returns each contender's median over rounds of its
 * per-round p50 and p99.
 */
export async function sampleInRounds(contenders: readonly Contender[], options: RoundsOptions): Promise<Map<string, Percentiles>> {
  const rotated = (i: number) => contenders.map((_, k) => contenders[(k + i) % contenders.length]!);
  for (let i = 0; i < options.warmup; i++) {
    for (const contender of rotated(i)) await contender.sample();
  }
  const perRound = new Map<string, Percentiles[]>(contenders.map((contender) => [contender.id, []]));
  for (let round = 0; round < options.rounds; round++) {
    const samples = new Map<string, number[]>(contenders.map((contender) => [contender.id, []]));
    for (let i = 0; i < options.samplesPerRound; i++) {
      for (const contender of rotated(i)) samples.get(contender.id)!.push(await contender.sample());
    }
    for (const [id, values] of samples) perRound.get(id)!.push(percentiles(values));
    options.onRound?.(round);
  }
  return new Map([...perRound].map(([id, rounds]) => [id, medianPercentiles(rounds)]));
}
