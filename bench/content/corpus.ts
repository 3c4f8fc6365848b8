/**
 * The generated posts of the content benchmark: deterministic text from a vocabulary of Latin
 * words and Chinese words drawn with a Zipf-like distribution, and three planted terms with a
 * known number of hits each (one of them Chinese). Same seed, same corpus.
 */

/** A term planted in exactly `hits` posts (capped at half the posts of a small run). */
export interface Planted {
  key: "rare" | "medium" | "common";
  /** The search text, as a user types it. */
  text: string;
  hits: number;
}

/**
 * Latin vocabulary words are built from the letters below, so no vocabulary word starts with
 * q, w, x, y or z and the Latin planted terms (prefix queries) match only where planted; the
 * Chinese planted term's characters are left out of the Chinese vocabulary for the same reason.
 */
export const PLANTED: readonly Planted[] = [
  { key: "rare", text: "zephyrine", hits: 100 },
  { key: "medium", text: "quixotal", hits: 1_000 },
  { key: "common", text: "琥珀鲸", hits: 15_000 },
];

const CONSONANTS = "bcdfghjklmnprstv";
const VOWELS = "aeiou";
const LATIN_WORDS = 30_000;
const CHINESE_WORDS = 30_000;
const HAN_POOL = 3_000;
/** The Zipf exponent: a few very common words, a long tail of rare ones. */
const ZIPF_S = 1.07;
const TAGS = 200;

/** mulberry32: a small fast deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws ranks 0..n-1 with P(k) ∝ 1/(k+1)^s, by binary search over the cumulative weights. */
function zipf(n: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1) ** s;
    cdf[k] = sum;
  }
  return () => {
    const x = rand() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function latinVocabulary(rand: () => number): string[] {
  const words = new Set<string>();
  const pick = (s: string) => s[Math.floor(rand() * s.length)]!;
  while (words.size < LATIN_WORDS) {
    const syllables = 1 + Math.floor(rand() * 4);
    let w = "";
    for (let i = 0; i < syllables; i++) w += pick(CONSONANTS) + pick(VOWELS) + (rand() < 0.3 ? pick(CONSONANTS) : "");
    words.add(w);
  }
  return [...words];
}

function chineseVocabulary(rand: () => number): string[] {
  const banned = new Set([...PLANTED.map((p) => p.text).join("")]);
  const pool: string[] = [];
  while (pool.length < HAN_POOL) {
    const ch = String.fromCodePoint(0x4e00 + Math.floor(rand() * (0x9fa5 - 0x4e00)));
    if (!banned.has(ch)) pool.push(ch);
  }
  const words = new Set<string>();
  const pick = () => pool[Math.floor(rand() * pool.length)]!;
  while (words.size < CHINESE_WORDS) {
    const r = rand();
    words.add(r < 0.1 ? pick() : r < 0.85 ? pick() + pick() : pick() + pick() + pick());
  }
  return [...words];
}

export interface GeneratedPost {
  title: string;
  body: string;
  tags: string[];
}

/** The corpus of one tenant: `post(i)` is post i's text, with the planted terms where they belong. */
export class Corpus {
  private readonly rand: () => number;
  private readonly latin: string[];
  private readonly chinese: string[];
  private readonly latinRank: () => number;
  private readonly chineseRank: () => number;
  private readonly tags: string[];
  /** The planted terms with their hit counts for this many posts. */
  readonly planted: Planted[];

  constructor(
    readonly posts: number,
    seed: number,
  ) {
    this.rand = prng(seed);
    // The vocabulary is the same for every tenant (seed 1); only the draws differ.
    const vocab = prng(1);
    this.latin = latinVocabulary(vocab);
    this.chinese = chineseVocabulary(vocab);
    this.tags = Array.from({ length: TAGS }, (_, i) => `${this.latin[i * 7]}${i}`);
    this.latinRank = zipf(LATIN_WORDS, ZIPF_S, this.rand);
    this.chineseRank = zipf(CHINESE_WORDS, ZIPF_S, this.rand);
    this.planted = PLANTED.map((p) => ({ ...p, hits: Math.min(p.hits, Math.floor(posts / 2)) }));
  }

  /**
   * Whether post i carries a planted term: i ↦ (i·7919 + offset) mod posts is a permutation of
   * 0..posts-1 (7919 is prime and divides no posts count of the form k·10^n it is used with), so
   * exactly `hits` posts carry it, spread over the whole range.
   */
  private carries(i: number, p: Planted, k: number): boolean {
    return (i * 7919 + k * 104_729) % this.posts < p.hits;
  }

  /** `n` words, each Chinese with probability `zh`; Chinese words run together without spaces. */
  private words(n: number, zh: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      if (this.rand() < zh) {
        const w = this.chinese[this.chineseRank()]!;
        // Chinese prose has no spaces: join onto the previous Chinese word most of the time.
        const last = out.length - 1;
        if (last >= 0 && /[\u4e00-\u9fa5]$/.test(out[last]!) && this.rand() < 0.8) out[last] += w;
        else out.push(w);
      } else out.push(this.latin[this.latinRank()]!);
    }
    return out;
  }

  post(i: number): GeneratedPost {
    // 40% of the posts are mostly Chinese, the rest mostly Latin with a few Chinese words.
    const zh = this.rand() < 0.4 ? 0.85 : 0.05;
    const title = this.words(3 + Math.floor(this.rand() * 6), zh);
    const body = this.words(30 + Math.floor(this.rand() * 60), zh);
    this.planted.forEach((p, k) => {
      if (!this.carries(i, p, k)) return;
      // One in five planted terms goes into the title, the rest into the body, at a random place.
      const into = this.rand() < 0.2 ? title : body;
      into.splice(Math.floor(this.rand() * (into.length + 1)), 0, p.text);
    });
    const tagCount = Math.floor(this.rand() * 4);
    const tags = new Set<string>();
    for (let t = 0; t < tagCount; t++) tags.add(this.tags[Math.floor(this.rand() * this.rand() * TAGS)]!);
    return { title: title.join(" "), body: `${body.join(" ")}.`, tags: [...tags] };
  }
}
