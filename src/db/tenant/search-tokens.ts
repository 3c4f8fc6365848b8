/**
 * The search index's text model (docs/content.md, "Search"), shared by index writes, queries and
 * snippets so all three agree on what a match is.
 *
 * Folding, per character: NFKC, lowercase, accents removed (NFD without combining marks), "ß" as
 * "ss" — except Chinese, Japanese and Korean characters, which keep their NFKC form (stripping
 * marks there would turn が into か). Then terms: a run of CJK characters (Han, Hiragana, Katakana
 * with ー, Hangul) is one CJK term; a run of other letters and digits is one word; anything else
 * separates terms.
 *
 * Index tokens: a word as itself; a CJK run as its overlapping bigrams plus its last character
 * alone ("今天天气" → 今天 天天 天气 气). So any substring of two or more CJK characters is a run
 * of adjacent bigrams (an FTS phrase), and any single character is the first character of some
 * token (an FTS prefix query).
 */

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u30fc]/u;
const WORD = /[\p{L}\p{N}]/u;
const MARKS = /\p{M}/gu;

/** One character folded (see the module comment); may be empty (a lone combining mark) or longer. */
export function foldChar(ch: string): string {
  if (ch < "\u0080") return ch.toLowerCase();
  const k = ch.normalize("NFKC");
  if (CJK.test(k)) return k.replace(MARKS, "");
  return k.toLowerCase().normalize("NFD").replace(MARKS, "").replaceAll("ß", "ss");
}

/**
 * A text folded, with where each folded character came from: `chars` are the folded text's
 * code points; `from[i]`/`to[i]` the range of code points of the original it came from.
 */
export interface Folded {
  chars: string[];
  from: number[];
  to: number[];
}

export function fold(text: string): Folded {
  const out: Folded = { chars: [], from: [], to: [] };
  let i = 0;
  for (const ch of text) {
    for (const f of foldChar(ch)) {
      out.chars.push(f);
      out.from.push(i);
      out.to.push(i + 1);
    }
    i++;
  }
  return out;
}

/** A search term: a word (matched as a prefix) or a run of CJK characters (matched as a substring). */
export interface Term {
  kind: "word" | "cjk";
  text: string;
  /** Where the term starts in the folded text (code points). */
  at: number;
}

const kindOf = (ch: string): Term["kind"] | null => (CJK.test(ch) ? "cjk" : WORD.test(ch) ? "word" : null);

/** The terms of a folded text, in order. */
export function termsOf(chars: string[]): Term[] {
  const terms: Term[] = [];
  let cur: Term | null = null;
  chars.forEach((ch, i) => {
    const kind = kindOf(ch);
    if (kind && cur?.kind === kind) cur.text += ch;
    else {
      cur = kind ? { kind, text: ch, at: i } : null;
      if (cur) terms.push(cur);
    }
  });
  return terms;
}

/** The index tokens of one CJK run: overlapping bigrams, then the last character alone. */
function cjkTokens(run: string): string[] {
  const cps = [...run];
  const out: string[] = [];
  for (let i = 0; i + 1 < cps.length; i++) out.push(cps[i]! + cps[i + 1]!);
  out.push(cps[cps.length - 1]!);
  return out;
}

/** The token text an FTS column holds for a text (space-separated tokens). */
export function indexText(text: string): string {
  return termsOf(fold(text).chars)
    .flatMap((t) => (t.kind === "word" ? [t.text] : cjkTokens(t.text)))
    .join(" ");
}

const quoted = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** Only the first this many terms of a query count (each one is an index lookup). */
export const MAX_QUERY_TERMS = 8;

/**
 * The FTS5 MATCH expression of a query's terms, built only from quoted tokens (no user syntax
 * ever reaches MATCH): a word is a prefix query (a one-letter word an exact one: a prefix of one
 * letter would expand to a good part of the vocabulary), a CJK run of two or more characters the
 * phrase of its bigrams (adjacent tokens: a substring), a single CJK character a prefix query;
 * the first {@link MAX_QUERY_TERMS} terms are ANDed. Null when the query has no term.
 */
export function matchExpression(terms: Term[]): string | null {
  if (terms.length === 0) return null;
  return terms
    .slice(0, MAX_QUERY_TERMS)
    .map((t) => {
      const cps = [...t.text];
      if (t.kind === "word") return cps.length === 1 ? quoted(t.text) : `${quoted(t.text)}*`;
      if (cps.length === 1) return `${quoted(t.text)}*`;
      return quoted(cjkTokens(t.text).slice(0, -1).join(" "));
    })
    .join(" AND ");
}
