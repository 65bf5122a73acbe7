import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import type { RandomGenerator } from 'pure-rand/types/RandomGenerator';

/**
 * The demo's randomness: pure-rand's xoroshiro128+ (a maintained, seedable generator), one
 * independent stream per (seed, purpose, index). A user's history depends on the seed and the
 * user's number only, never on batch sizes or on how many users were generated before it, so the
 * same seed and version give the same rows.
 */

/** A 32-bit mix (murmur3's finaliser) of the seed and the stream's coordinates. */
function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h | 0;
}

export class Rng {
  private readonly g: RandomGenerator;
  constructor(seed: number, ...stream: number[]) {
    this.g = xoroshiro128plus(mix(seed, ...stream));
  }
  /** A float in [0, 1). */
  float(): number {
    return (this.g.next() >>> 0) / 4294967296;
  }
  /** An integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.g, from, to);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)];
  }
  /** A small count with mean `mean` (Poisson by inversion; fine for the means used here). */
  count(mean: number): number {
    if (mean <= 0) return 0;
    const l = Math.exp(-mean);
    let k = 0;
    let p = this.float();
    while (p > l && k < 50) {
      k++;
      p *= this.float();
    }
    return k;
  }
  /** One of `weights`' keys, with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as Array<[K, number]>;
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let x = this.float() * total;
    for (const [k, w] of entries) {
      if ((x -= w) < 0) return k;
    }
    return entries[entries.length - 1][0];
  }
}

/** Stream ids: one per purpose, so adding a purpose never shifts another's numbers. */
export const STREAM = { user: 1, catalog: 2, http: 3, voucher: 4 } as const;
