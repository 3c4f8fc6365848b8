/**
 * The `local` provider (docs/plans/ai.md, "Providers"): deterministic, no network, and real
 * enough to run Canopy without a model. Chat answers by extraction from the retrieved passages;
 * moderation is built-in word lists plus spam rules with fixed scores; embeddings are feature
 * hashing. Every count is `countTokens`, so metering it is exact.
 */
import { WordMatcher } from "../moderation";
import {
  type AiProvider,
  type ChatChunk,
  type ChatRequest,
  type ChatSource,
  EMBEDDING_DIMENSIONS,
  MODERATION_CATEGORIES,
  type ModerationCategory,
  type ModerationScores,
} from "./provider";
import { countTokens, foldedTerms, tokenPieces, truncateToTokens } from "./tokens";

export const LOCAL_MODEL = "canopy-local-1";
/** The local embeddings: signed feature hashing, 384 dimensions. */
export const LOCAL_EMBEDDING_MODEL = "canopy-hash-384";

/**
 * The built-in lists, English and Chinese, one per category. Matched case-insensitively per code
 * point (the tenant word list's automaton); an English entry only as whole words ("loser" is not
 * in "closer"). Kept short and mild: a starting point that flags for review, not a filter.
 */
export const LOCAL_WORD_LISTS: Readonly<Record<ModerationCategory, readonly string[]>> = {
  spam: ["buy now", "free money", "click here", "limited time offer", "act now", "免费领取", "加微信", "点击链接"],
  harassment: ["you idiot", "shut up", "loser", "nobody likes you", "you are worthless", "白痴", "闭嘴", "废物"],
  hate: ["subhuman", "inferior race", "go back to your country", "vermin", "劣等民族", "滚回你的国家"],
  violence: ["kill you", "beat you up", "shoot you", "stab you", "blow up", "杀了你", "打死你"],
  sexual: ["send nudes", "nude photos", "porn", "explicit pics", "色情", "裸照"],
  self_harm: ["kill yourself", "kill myself", "end my life", "want to die", "hurt myself", "自杀", "不想活了"],
};

/**
 * The fixed scores. A category's list: one match → `oneMatch`, two or more (the same entry twice
 * included) → `manyMatches`. Spam also has rules, combined with its list as independent signals
 * (1 − Π(1 − s), rounded to two decimals): links (`http(s)://…`, `www.…`, bare domains such as
 * `example.com`) score by count (1 → 0.2, 2 → 0.4, 3 or more → 0.7); a Latin letter, `!`, `?` or
 * `$` repeated six or more times in a row ("!!!!!!", "aaaaaaa") 0.5 (not digits, not Markdown's
 * "------", not "哈哈哈哈哈哈", which is laughter); shouting (at least 10 cased letters, 80% or more
 * upper case) 0.5. Clean text scores 0 everywhere.
 */
export const LOCAL_SCORES = {
  oneMatch: 0.6,
  manyMatches: 0.95,
  links: [0, 0.2, 0.4, 0.7],
  repeated: 0.5,
  shouting: 0.5,
} as const;

const LINK =
  /\bhttps?:\/\/\S+|\bwww\.\S+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|co|xyz|top|cn|ru|info|biz|link|click|shop)\b(?:\/\S*)?/giu;
const REPEATED = /([\p{Script=Latin}!?$])\1{5,}/u;
const UPPER = /\p{Lu}/gu;
const LOWER = /\p{Ll}/gu;
const ASCII_WORD = /[a-z0-9]/i;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/** Whether an English entry's match stands alone: no letter or digit glued to either end. */
function wholeWords(chars: string[], start: number, end: number): boolean {
  const free = (inside: string | undefined, outside: string | undefined) =>
    inside === undefined || outside === undefined || !ASCII_WORD.test(inside) || !WORD_CHAR.test(outside);
  return free(chars[start], chars[start - 1]) && free(chars[end - 1], chars[end]);
}

// Built once per isolate on first use, outside the tenant lists' matcher cache (whose slots they would take).
let builtIn: Map<ModerationCategory, WordMatcher> | undefined;
const matcherOf = (category: ModerationCategory): WordMatcher => {
  builtIn ??= new Map(MODERATION_CATEGORIES.map((c) => [c, new WordMatcher(LOCAL_WORD_LISTS[c])]));
  return builtIn.get(category) ?? new WordMatcher([]);
};

function listScore(text: string, chars: string[], category: ModerationCategory): number {
  let matches = 0;
  for (const [start, end] of matcherOf(category).spans(text)) if (wholeWords(chars, start, end)) matches++;
  return matches === 0 ? 0 : matches === 1 ? LOCAL_SCORES.oneMatch : LOCAL_SCORES.manyMatches;
}

function spamRules(text: string): number[] {
  const links = text.match(LINK)?.length ?? 0;
  const upper = text.match(UPPER)?.length ?? 0;
  const cased = upper + (text.match(LOWER)?.length ?? 0);
  return [
    LOCAL_SCORES.links[Math.min(links, LOCAL_SCORES.links.length - 1)] ?? 0,
    REPEATED.test(text) ? LOCAL_SCORES.repeated : 0,
    cased >= 10 && upper >= cased * 0.8 ? LOCAL_SCORES.shouting : 0,
  ];
}

/** The local moderation of one text: a score for every category (see {@link LOCAL_SCORES}). */
export function localModeration(text: string): ModerationScores {
  const chars = Array.from(text);
  const categories: Partial<Record<ModerationCategory, number>> = {};
  for (const category of MODERATION_CATEGORIES) {
    const listed = listScore(text, chars, category);
    const signals = category === "spam" ? [listed, ...spamRules(text)] : [listed];
    const clear = signals.reduce((p, s) => p * (1 - s), 1);
    categories[category] = Math.round((1 - clear) * 100) / 100;
  }
  return { categories };
}

/** FNV-1a over UTF-16 code units, as a signed 32-bit integer. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * A feature-hashed embedding: every term of `foldedTerms` (folded words, CJK bigrams) adds ±1 at
 * its FNV-1a hash's low 31 bits modulo {@link EMBEDDING_DIMENSIONS}, the sign being the hash's top
 * bit (so unrelated terms sharing a slot cancel on average instead of piling up); then scaled to
 * unit length. A text without terms (blank, only punctuation), or whose terms cancel out
 * exactly, is the first basis vector e0.
 */
export function localEmbedding(text: string): Float32Array {
  const v = new Float32Array(EMBEDDING_DIMENSIONS);
  for (const term of foldedTerms(text)) {
    const h = fnv1a(term);
    const slot = (h & 0x7fffffff) % EMBEDDING_DIMENSIONS;
    v[slot] = (v[slot] ?? 0) + (h < 0 ? -1 : 1);
  }
  let sum = 0;
  for (const x of v) sum += x * x;
  if (sum === 0) {
    v[0] = 1;
    return v;
  }
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) * scale;
  return v;
}

/** Words too common to say what a question is about (English; CJK bigrams need no such list). */
const STOP_WORDS = new Set(
  "a an and are be by can do does for from has have how i in is it its me my of on or so that the this to was what when where which who why will with you your".split(
    " ",
  ),
);

/** A sentence of a source, with the question terms it shares. */
export interface RankedSentence {
  sourceId: string;
  text: string;
  score: number;
}

const SENTENCE = /.+?(?:[.!?]+(?=\s|$)|[。！？]+|$)/gu;

/** A text's sentences: cut after `.`, `!`, `?` before whitespace, after `。！？`, and at line breaks. */
export function splitSentences(text: string): string[] {
  return text
    .split(/\n+/)
    .flatMap((line) => Array.from(line.matchAll(SENTENCE), ([s]) => s.trim()))
    .filter((s) => s !== "");
}

const keyTerms = (text: string) => new Set(foldedTerms(text).filter((t) => !STOP_WORDS.has(t)));

/**
 * Every sentence of the sources that shares a term with the question (stop words aside), best
 * first: by the number of distinct question terms it contains, ties in source order then
 * sentence order. A sentence repeated across sources (overlapping chunks) counts once.
 */
export function rankSentences(question: string, sources: readonly ChatSource[]): RankedSentence[] {
  const wanted = keyTerms(question);
  const seen = new Set<string>();
  const ranked: RankedSentence[] = [];
  for (const source of sources) {
    for (const text of splitSentences(source.text)) {
      if (seen.has(text)) continue;
      seen.add(text);
      let score = 0;
      for (const term of keyTerms(text)) if (wanted.has(term)) score++;
      if (score > 0) ranked.push({ sourceId: source.id, text, score });
    }
  }
  // Array.prototype.sort is stable: equal scores keep source and sentence order.
  return ranked.sort((a, b) => b.score - a.score);
}

/** At most this many sentences make an answer. */
export const MAX_ANSWER_SENTENCES = 3;

export interface LocalAnswer {
  /** The answer; empty when no sentence of the sources shares a term with the question. */
  text: string;
  /** The sources the answer's sentences came from, in answer order, each once. */
  sourceIds: string[];
}

/**
 * The extractive answer to `question` from `sources`: the best {@link MAX_ANSWER_SENTENCES}
 * sentences of {@link rankSentences}, best first, joined by a space (none after `。！？`), cut to
 * at most `maxTokens` tokens. Pure: the chat stream and the degraded chat path both use it.
 */
export function localAnswer(question: string, sources: readonly ChatSource[], maxTokens: number): LocalAnswer {
  let joined = "";
  const starts: { at: number; sourceId: string }[] = [];
  for (const sentence of rankSentences(question, sources).slice(0, MAX_ANSWER_SENTENCES)) {
    if (joined !== "" && !/[。！？]$/u.test(joined)) joined += " ";
    starts.push({ at: joined.length, sourceId: sentence.sourceId });
    joined += sentence.text;
  }
  const text = truncateToTokens(joined, maxTokens).trimEnd();
  const sourceIds = [...new Set(starts.filter((s) => s.at < text.length).map((s) => s.sourceId))];
  return { text, sourceIds };
}

/** What a chat request costs on input: its system prompt and every message, by `countTokens`. */
export const chatInputTokens = (req: ChatRequest): number =>
  req.messages.reduce((n, m) => n + countTokens(m.content), countTokens(req.system));

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

export interface LocalProviderOptions {
  /**
   * A pause between two deltas (default 0), so a stream takes time as a model's does: for tests
   * of a client abort mid-stream and for the benchmark. An abort ends the pause at once.
   */
  deltaPauseMs?: number;
}

/**
 * The local provider. `chat` answers the last user message with {@link localAnswer} over
 * `req.sources`, streamed one token per delta (the deltas concatenate to the answer), then the
 * usage: input = {@link chatInputTokens}, output = the produced text's tokens. No sources, or no
 * sentence sharing a term with the question, yields the usage alone: whether and how to say
 * "no answer" is the caller's. An aborted `signal` ends every method by throwing its reason.
 */
export function localProvider(opts: LocalProviderOptions = {}): AiProvider {
  const pauseMs = opts.deltaPauseMs ?? 0;
  return {
    name: "local",
    model: LOCAL_MODEL,
    embeddingModel: LOCAL_EMBEDDING_MODEL,
    async *chat(req: ChatRequest, signal: AbortSignal): AsyncIterable<ChatChunk> {
      signal.throwIfAborted();
      const question = req.messages.findLast((m) => m.role === "user")?.content ?? "";
      const { text } = localAnswer(question, req.sources, req.maxOutputTokens);
      let produced = "";
      for (const delta of tokenPieces(text)) {
        if (pauseMs > 0 && produced !== "") await pause(pauseMs, signal);
        signal.throwIfAborted();
        produced += delta;
        yield { delta };
      }
      signal.throwIfAborted();
      yield { usage: { inputTokens: chatInputTokens(req), outputTokens: countTokens(produced) } };
    },
    async moderate(text: string, signal: AbortSignal): Promise<ModerationScores> {
      signal.throwIfAborted();
      return localModeration(text);
    },
    async embed(texts: string[], signal: AbortSignal): Promise<Float32Array[]> {
      signal.throwIfAborted();
      return texts.map(localEmbedding);
    },
  };
}
