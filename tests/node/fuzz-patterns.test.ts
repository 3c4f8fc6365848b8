import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { patternArb } from "../worker/fuzz/patterns";

/**
 * A random source for fast-check that refuses more than `budget` draws. A generator that keeps
 * rejecting candidates then fails with "draw budget spent" instead of spinning forever, so the
 * bound is a count of draws, not a clock.
 */
function budgetedRandom(seed: number, budget: number): fc.Random {
  const source = (state: number) => {
    let s = state >>> 0;
    const rng = {
      next(): number {
        if (--budget < 0) throw new Error("draw budget spent");
        // mulberry32
        s = (s + 0x6d2b79f5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return (t ^ (t >>> 14)) | 0;
      },
      clone: () => source(s),
      jump: () => {},
      getState: () => [s],
    };
    return rng;
  };
  return new fc.Random(source(seed));
}

const draw = (arb: fc.Arbitrary<string>, count: number, rng: fc.Random) =>
  Array.from({ length: count }, () => arb.generate(rng, undefined).value);

// Ample for 100 strings of up to 48 characters: about two draws per character.
const BUDGET = 100 * 2_000;

describe("fuzz string generation from document patterns", () => {
  it("a pattern without length bounds plus minLength 16 gives 100 fitting values within a draw budget", () => {
    const pattern = "^[A-Za-z0-9_-]+$";
    const values = draw(patternArb(pattern, 16, 200)!, 100, budgetedRandom(7, BUDGET));
    for (const v of values) {
      expect(v).toMatch(new RegExp(pattern));
      expect(v.length).toBeGreaterThanOrEqual(16);
      expect(v.length).toBeLessThanOrEqual(200);
    }
    expect(new Set(values).size).toBeGreaterThan(50);
  });

  it("the old shape, a filter over the unbounded pattern, spends the same budget without an answer", () => {
    const filtered = fc.stringMatching(/^[A-Za-z0-9_-]+$/).filter((v) => v.length >= 16 && v.length <= 200);
    expect(() => draw(filtered, 100, budgetedRandom(7, BUDGET))).toThrow("draw budget spent");
  });

  it("quantified, starred, unicode-flagged and composite patterns keep their bounds", () => {
    const cases: [string, number, number | undefined][] = [
      ["^[a-z0-9_-]{1,32}$", 1, undefined],
      ["^[\\p{L}\\p{N}_.-]{3,32}$/u", 1, undefined],
      ["^\\d{6}$", 1, undefined],
      ["^[\\x21-\\x7e]+$", 8, 128],
      ["^[a-z][a-z0-9-]*[a-z0-9]$", 3, 40],
      ["^[dg]_[0-9a-z]{20,40}$", 1, undefined],
    ];
    for (const [pattern, min, max] of cases) {
      const unicode = pattern.endsWith("/u");
      const re = new RegExp(unicode ? pattern.slice(0, -2) : pattern, unicode ? "u" : "");
      for (const v of draw(patternArb(pattern, min, max)!, 50, budgetedRandom(11, 50 * 20_000))) {
        expect(v).toMatch(re);
        expect(v.length).toBeGreaterThanOrEqual(min);
        expect(v.length).toBeLessThanOrEqual(max ?? Infinity);
      }
    }
  });
});
