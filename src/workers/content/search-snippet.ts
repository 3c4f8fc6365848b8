import { fold, type Term } from "../../db/tenant/search-tokens";

/**
 * Search snippets (docs/content.md, "Search"): a window of the original text around the first
 * match, every match in it wrapped in `<mark>…</mark>`, everything else HTML-escaped. Built here
 * from the document's own text (the FTS columns hold token text), matching the way the index
 * does: on the folded text, a word term at the start of a word (a prefix), a CJK term anywhere.
 */

/** Characters of context shown before the first match, and the window's usual length. */
const BEFORE = 20;
const WINDOW = 60;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
/** HTML-escapes text for an element's content or an attribute value. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => ESCAPES[ch]!);

const WORDISH = /[\p{L}\p{N}]/u;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u30fc]/u;
/** A word term matches where the folded text's previous character does not continue a word. */
const wordStart = (chars: string[], i: number) => i === 0 || !WORDISH.test(chars[i - 1]!) || CJK.test(chars[i - 1]!);

/** The ranges (original code points, end exclusive) the terms match in a text, sorted and merged. */
export function matchRanges(text: string, terms: Term[]): [number, number][] {
  const f = fold(text);
  // The folded text as one string (native indexOf), and the character each UTF-16 unit belongs to.
  const hay = f.chars.join("");
  const charAt: number[] = [];
  f.chars.forEach((ch, i) => {
    for (let k = 0; k < ch.length; k++) charAt.push(i);
  });
  const found: [number, number][] = [];
  for (const t of terms) {
    const n = [...t.text].length;
    for (let u = hay.indexOf(t.text); u >= 0; u = hay.indexOf(t.text, u + 1)) {
      const i = charAt[u]!;
      if (t.kind === "word" && !wordStart(f.chars, i)) continue;
      found.push([f.from[i]!, f.to[i + n - 1]!]);
    }
  }
  found.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: [number, number][] = [];
  for (const r of found) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

const flat = (s: string) => escapeHtml(s.replace(/\s+/gu, " "));

/**
 * The snippet of a text for these terms, or null when none matches in it. Whitespace runs show
 * as one space; an ellipsis marks a cut at either end.
 */
export function snippetOf(text: string, terms: Term[]): string | null {
  const ranges = matchRanges(text, terms);
  const first = ranges[0];
  if (!first) return null;
  const cps = [...text];
  const start = Math.max(0, first[0] - BEFORE);
  const end = Math.min(cps.length, Math.max(start + WINDOW, first[1]));
  let out = start > 0 ? "…" : "";
  let at = start;
  for (const [a, b] of ranges) {
    if (a >= end) break;
    if (b <= start) continue;
    const from = Math.max(a, start);
    const to = Math.min(b, end);
    out += `${flat(cps.slice(at, from).join(""))}<mark>${flat(cps.slice(from, to).join(""))}</mark>`;
    at = to;
  }
  out += flat(cps.slice(at, end).join(""));
  return end < cps.length ? `${out}…` : out;
}

/** The start of a text, escaped, for a document that matched only where no snippet is shown (tags). */
export function leadOf(text: string): string {
  const cps = [...text];
  const head = flat(cps.slice(0, WINDOW).join(""));
  return cps.length > WINDOW ? `${head}…` : head;
}
