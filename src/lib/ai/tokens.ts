/**
 * Canopy's own token count (docs/plans/ai.md, "Units and who pays"): what a call is metered with
 * when its provider reports no usage, and the local provider's count. It is an estimate, not any
 * model's tokenizer, chosen to be deterministic, cheap and fair across scripts:
 *
 * - each CJK character (any character of the Han, Hiragana, Katakana or Hangul scripts, and ー)
 *   is one token;
 * - each run of other letters and digits (`\p{L}\p{N}`) is one token ("café", "2026", "naïve");
 * - each run of punctuation and symbols is one token ("...", "?!", "👍👍", "->");
 * - whitespace is free.
 *
 * Combining marks (accents, variation selectors) belong to the token they follow, so "❤️" and a
 * decomposed "é" are one token each, not two.
 *
 * The same module holds the text model local matching uses (`foldedTerms`): the local provider's
 * embeddings and its extractive answers agree on what a term is.
 */

const CJK = "\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}\\u30fc";
const NOT_CJK = `(?![${CJK}])`;

// Character classes. A mark continues whatever token it follows (a lone one starts a symbol run).
const SPACE = 1;
const WORD = 2;
const MARK = 3;
const CJK_CHAR = 4;
const SYMBOL = 5;

const IS_SPACE = /\s/u;
const IS_CJK = new RegExp(`[${CJK}]`, "u");
const IS_WORD = /[\p{L}\p{N}]/u;
const IS_MARK = /\p{M}/u;

function classify(ch: string): number {
  if (IS_SPACE.test(ch)) return SPACE;
  if (IS_CJK.test(ch)) return CJK_CHAR;
  if (IS_WORD.test(ch)) return WORD;
  return IS_MARK.test(ch) ? MARK : SYMBOL;
}

/**
 * The class of every UTF-16 unit below the surrogates and above them, filled on first sight (0 =
 * not yet known): one table lookup per character after warm-up instead of a Unicode property
 * match. 64 KiB per isolate; astral characters (emoji, rare Han) are classified each time.
 */
const BMP_CLASSES = new Uint8Array(0x10000);

interface Scan {
  tokens: number;
  /** Where token `limit + 1` starts, or the text's length when there are no more than `limit`. */
  cut: number;
}

/** One pass over `text`, counting tokens up to `limit`; each token's start offset goes to `starts` when asked. */
function scan(text: string, limit: number, starts?: number[]): Scan {
  let tokens = 0;
  let state = SPACE;
  for (let i = 0; i < text.length; i++) {
    const at = i;
    const unit = text.charCodeAt(i);
    let kind: number;
    if (unit < 0xd800 || unit > 0xdfff) {
      kind = BMP_CLASSES[unit] ?? 0;
      if (kind === 0) BMP_CLASSES[unit] = kind = classify(text[i] ?? "");
    } else {
      // A surrogate pair is one character; a lone surrogate is a symbol of its own.
      const point = text.codePointAt(i) ?? unit;
      if (point > 0xffff) i++;
      kind = classify(String.fromCodePoint(point));
    }
    if (kind === SPACE) state = SPACE;
    else if (kind === MARK ? state === SPACE : kind === CJK_CHAR || kind !== state) {
      if (tokens === limit) return { tokens, cut: at };
      tokens++;
      starts?.push(at);
      state = kind === MARK ? SYMBOL : kind;
    }
  }
  return { tokens, cut: text.length };
}

/** The number of tokens in `text` (see the module comment); 0 for empty or blank text. */
export function countTokens(text: string): number {
  return scan(text, Number.POSITIVE_INFINITY).tokens;
}

/**
 * The longest prefix of `text` with at most `max` tokens: everything before the first character
 * of token `max + 1` (whitespace after token `max` included), or `text` itself when it has no
 * more than `max` tokens. A prefix never ends inside a token, so cutting a stream with it never
 * emits half a word.
 */
export function truncateToTokens(text: string, max: number): string {
  return text.slice(0, scan(text, Math.max(0, Math.floor(max))).cut);
}

/**
 * `text` cut into pieces of one token each, every piece carrying the whitespace after its token
 * (the first also the whitespace before it): the pieces concatenate to `text` exactly, and the
 * first `k` of them to `truncateToTokens(text, k)`, so a stream of them is word by word in
 * English, character by character in Chinese, and can stop at any token budget. Blank text is
 * one piece, empty text none.
 */
export function tokenPieces(text: string): string[] {
  const starts: number[] = [];
  scan(text, Number.POSITIVE_INFINITY, starts);
  if (text !== "" && starts.length === 0) return [text];
  return starts.map((start, k) => text.slice(k === 0 ? 0 : start, starts[k + 1] ?? text.length));
}

const TERM = new RegExp(`[${CJK}]+|${NOT_CJK}[\\p{L}\\p{N}\\p{M}]+`, "gu");
const MARKS = /\p{M}/gu;

/**
 * The matching terms of a text, in order, repeats kept: NFKC and lower case first; a run of
 * other letters and digits is one word with its accents removed ("Café" → "cafe", "ß" → "ss");
 * a run of CJK characters gives its overlapping bigrams ("今天天气" → 今天 天天 天气), a single
 * CJK character itself. Punctuation and symbols are not terms.
 */
export function foldedTerms(text: string): string[] {
  const terms: string[] = [];
  for (const [run] of text.normalize("NFKC").toLowerCase().matchAll(TERM)) {
    if (IS_CJK.test(run)) {
      const chars = Array.from(run);
      if (chars.length === 1) terms.push(run);
      for (let i = 0; i + 1 < chars.length; i++) terms.push(chars[i]! + chars[i + 1]!);
      continue;
    }
    const word = run.normalize("NFD").replace(MARKS, "").replaceAll("ß", "ss");
    if (word !== "") terms.push(word);
  }
  return terms;
}
