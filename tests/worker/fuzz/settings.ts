import { env } from "cloudflare:test";

/**
 * How much the fuzz suite runs. `npm test` passes nothing: a fixed seed and a bounded number of
 * random cases per operation, so CI is deterministic and adds about a minute. `npm run fuzz` passes
 * FUZZ_RUNS and FUZZ_SEED (`random` by default) through vitest.config.ts's Miniflare bindings,
 * since process.env does not reach workerd.
 */
export interface FuzzSettings {
  /** Random cases per operation, on top of one case per mutation class. */
  runs: number;
  /** The run's seed; each operation derives its own from it (see {@link seedFor}). */
  seed: number;
  /** Whether the seed was drawn at random (then it is printed up front, not only on failure). */
  random: boolean;
}

/** The seed `npm test` always uses. */
export const FIXED_SEED = 20_260_117;
/**
 * Random cases per operation in `npm test`, on top of the sweep (one case per mutation class and
 * per identity, 10 to 35 by operation): about 3,300 requests in all, 60–80 s on two cores.
 * tests/worker/fuzz-socket.test.ts sends 20 random frames per run on top of its sweep.
 */
export const CI_RUNS = 8;

/** Reads FUZZ_RUNS / FUZZ_SEED from the bindings vitest.config.ts sets (empty when unset). */
export function fuzzSettings(): FuzzSettings {
  // The bindings are test knobs, not part of the Worker's generated Env type.
  const knobs = env as unknown as Partial<Record<"FUZZ_RUNS" | "FUZZ_SEED", string>>;
  const runs = Number.parseInt(knobs.FUZZ_RUNS ?? "", 10);
  const rawSeed = (knobs.FUZZ_SEED ?? "").trim();
  const random = rawSeed === "random";
  const parsed = Number.parseInt(rawSeed, 10);
  const seed = random ? Math.floor(Math.random() * 2 ** 31) : Number.isFinite(parsed) ? parsed : FIXED_SEED;
  return { runs: Number.isFinite(runs) && runs > 0 ? runs : CI_RUNS, seed, random };
}

/**
 * A per-operation seed (FNV-1a of the operation's key, mixed with the run's seed), so filtering
 * the run to one operation with `-t` replays exactly the cases that operation had in the full run.
 */
export function seedFor(seed: number, key: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h | 0;
}
