/**
 * A small seeded pseudo-random generator for randomized tests (mulberry32: 32-bit state,
 * fast, good enough for choosing targets and moments). The same seed gives the same
 * sequence, so a failing run can be replayed from the seed it printed.
 */

export interface Prng {
  /** The seed this generator started from. */
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One item of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** `count` distinct items of `items` (at most all of them), in random order. */
  sample<T>(items: readonly T[], count: number): T[];
  /**
   * A new generator seeded from this one: its numbers do not depend on how many the
   * parent draws later, so independent parts of a test stay reproducible on their own.
   */
  fork(): Prng;
}

/** A generator seeded with the low 32 bits of `seed`. */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const prng: Prng = {
    seed: seed >>> 0,
    next,
    int,
    chance: (p) => next() < p,
    pick(items) {
      if (items.length === 0) throw new RangeError('pick() from an empty list');
      return items[int(0, items.length - 1)] as (typeof items)[number];
    },
    sample(items, count) {
      const pool = [...items];
      // Partial Fisher–Yates: the first `n` slots end up a uniform random sample.
      const n = Math.min(count, pool.length);
      for (let i = 0; i < n; i++) {
        const j = int(i, pool.length - 1);
        [pool[i], pool[j]] = [pool[j] as (typeof pool)[number], pool[i] as (typeof pool)[number]];
      }
      return pool.slice(0, n);
    },
    fork: () => createPrng(Math.floor(next() * 4_294_967_296)),
  };
  return prng;
}

/**
 * The seed of a randomized test: the environment variable `name` when set (decimal or
 * `0x` hex), otherwise `fallback`. A malformed value throws rather than silently running
 * another scenario than the one asked for.
 */
export function seedFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback >>> 0;
  const value = Number(raw.trim());
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`${name} must be an integer from 0 to 4294967295, got ${raw}`);
  }
  return value;
}
