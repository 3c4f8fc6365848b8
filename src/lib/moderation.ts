/**
 * The moderation hook every message passes before it is stored. For now one implementation: the
 * tenant's word list, matched with an Aho–Corasick automaton (all patterns in one pass over the
 * text, case-insensitive, per Unicode code point so CJK and astral characters work). Classifiers
 * (the AI issue) plug in behind the same interface.
 */
export type ModerationAction = "allow" | "block" | "mask" | "review";

export interface ModerationResult {
  action: ModerationAction;
  /** The text to store: unchanged for allow/block/review, with every matched character as `*` for mask. */
  text: string;
}

export interface Moderator {
  check(text: string): ModerationResult;
}

/**
 * What a match does: refuse the text, star the match out, or (posts and comments) store it held
 * for a moderator's approval. A chat message cannot wait for review: the realtime service refuses
 * it as under `block`.
 */
export type ModerationMode = "off" | "block" | "mask" | "review";

/** Lower-cases one code point, keeping it as is when lower-casing would change its length. */
function fold(ch: string): string {
  const lower = ch.toLowerCase();
  return lower.length === ch.length ? lower : ch;
}

/** A multi-pattern matcher: `spans` answers every [start, end) match, in code points. */
export class WordMatcher {
  private readonly next: Map<string, number>[] = [new Map()];
  private readonly fail: number[] = [0];
  /** Lengths (in code points) of the patterns ending at each node, its suffixes' included. */
  private readonly out: number[][] = [[]];

  constructor(words: readonly string[]) {
    for (const word of words) {
      const chars = Array.from(word, fold);
      if (chars.length === 0) continue;
      let node = 0;
      for (const ch of chars) {
        let to = this.next[node]!.get(ch);
        if (to === undefined) {
          to = this.next.length;
          this.next.push(new Map());
          this.fail.push(0);
          this.out.push([]);
          this.next[node]!.set(ch, to);
        }
        node = to;
      }
      if (!this.out[node]!.includes(chars.length)) this.out[node]!.push(chars.length);
    }
    // Breadth-first: a node's failure link is the longest proper suffix that is also a prefix.
    const queue: number[] = [...this.next[0]!.values()];
    for (let i = 0; i < queue.length; i++) {
      const node = queue[i]!;
      for (const [ch, child] of this.next[node]!) {
        let f = this.fail[node]!;
        while (f !== 0 && !this.next[f]!.has(ch)) f = this.fail[f]!;
        const target = this.next[f]!.get(ch);
        this.fail[child] = target !== undefined && target !== child ? target : 0;
        this.out[child] = [...this.out[child]!, ...this.out[this.fail[child]!]!];
        queue.push(child);
      }
    }
  }

  /** Every match as [start, end) in code-point offsets of `text`, overlapping ones included. */
  spans(text: string): [number, number][] {
    const found: [number, number][] = [];
    let node = 0;
    let i = 0;
    for (const raw of text) {
      const ch = fold(raw);
      while (node !== 0 && !this.next[node]!.has(ch)) node = this.fail[node]!;
      node = this.next[node]!.get(ch) ?? 0;
      for (const len of this.out[node]!) found.push([i + 1 - len, i + 1]);
      i++;
    }
    return found;
  }
}

/** A short, stable hash of a word list (cyrb53), the key of the per-isolate matcher cache. */
export function hashWords(words: readonly string[]): string {
  const s = words.join("\u0000");
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return `${(h2 >>> 0).toString(36)}.${(h1 >>> 0).toString(36)}.${words.length}.${s.length}`;
}

const MAX_CACHED = 64;
const matchers = new Map<string, WordMatcher>();

/** The automaton for a word list, built once per isolate per list (bounded LRU). */
export function matcherFor(words: readonly string[]): WordMatcher {
  const key = hashWords(words);
  const hit = matchers.get(key);
  if (hit) {
    matchers.delete(key);
    matchers.set(key, hit);
    return hit;
  }
  const built = new WordMatcher(words);
  matchers.set(key, built);
  if (matchers.size > MAX_CACHED) matchers.delete(matchers.keys().next().value!);
  return built;
}

/** Replaces every character covered by a match with `*` (overlapping matches merge). */
export function maskSpans(text: string, spans: readonly [number, number][]): string {
  const chars = Array.from(text);
  for (const [start, end] of spans) for (let i = start; i < end; i++) chars[i] = "*";
  return chars.join("");
}

const allowAll: Moderator = { check: (text) => ({ action: "allow", text }) };

/** The tenant's word-list moderator: off allows everything; block refuses a match; mask stars it; review holds it. */
export function wordListModerator(config: { mode: ModerationMode; words: readonly string[] }): Moderator {
  if (config.mode === "off" || config.words.length === 0) return allowAll;
  const matcher = matcherFor(config.words);
  const mode = config.mode;
  return {
    check(text) {
      const spans = matcher.spans(text);
      if (spans.length === 0) return { action: "allow", text };
      return mode === "mask" ? { action: "mask", text: maskSpans(text, spans) } : { action: mode, text };
    },
  };
}
