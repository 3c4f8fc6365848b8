/**
 * The one check every JSON text Canopy accepts goes through before it is parsed: HTTP bodies
 * (gateway/middleware/body-limit.ts) and WebSocket frames (durable/user-hub/sockets-frames.ts).
 * Values that pass are safe to validate, serialise, store and send over RPC: nothing nested
 * deeper than {@link MAX_JSON_DEPTH} (deep values overflow the stack of JSON.stringify and
 * structured clone), no NUL and no lone surrogate in any string or key (SQLite, FTS and many
 * clients mishandle them). Byte size is bounded by the caller's own limit, before this runs.
 *
 * One linear scan of the text, without parsing: the parse that follows runs only on text that
 * passed.
 */

/** Deepest nesting of arrays and objects accepted anywhere (Firestore allows 20 levels of maps). */
export const MAX_JSON_DEPTH = 32;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

const hex4 = (text: string, at: number): number => {
  const digits = text.slice(at, at + 4);
  return /^[0-9a-fA-F]{4}$/.test(digits) ? parseInt(digits, 16) : -1;
};
const isHigh = (u: number) => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number) => u >= 0xdc00 && u <= 0xdfff;

/**
 * Why the JSON text must be refused, or null when it may be parsed. Malformed JSON passes this
 * check (the parser that follows refuses it with its own message).
 */
export function jsonTextProblem(text: string): string | null {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === QUOTE) inString = false;
      else if (ch === 0) return "Strings must not contain NUL characters.";
      else if (isHigh(ch)) {
        if (!isLow(text.charCodeAt(i + 1))) return "Strings must be well-formed Unicode (a lone surrogate was found).";
        i++;
      } else if (isLow(ch)) return "Strings must be well-formed Unicode (a lone surrogate was found).";
      else if (ch === BACKSLASH) {
        if (text.charCodeAt(i + 1) !== 0x75 /* u */) {
          i++;
          continue;
        }
        const unit = hex4(text, i + 2);
        if (unit === 0) return "Strings must not contain NUL characters (\\u0000).";
        if (isHigh(unit)) {
          // An escaped high surrogate must be followed by an escaped low one.
          if (text.charCodeAt(i + 6) !== BACKSLASH || text.charCodeAt(i + 7) !== 0x75 || !isLow(hex4(text, i + 8))) {
            return "Strings must be well-formed Unicode (a lone surrogate escape was found).";
          }
          i += 11;
        } else if (isLow(unit)) {
          return "Strings must be well-formed Unicode (a lone surrogate escape was found).";
        } else if (unit >= 0) {
          i += 5;
        }
      }
      continue;
    }
    if (ch === QUOTE) inString = true;
    else if (ch === OPEN_BRACE || ch === OPEN_BRACKET) {
      if (++depth > MAX_JSON_DEPTH) return `JSON may nest at most ${MAX_JSON_DEPTH} levels deep.`;
    } else if (ch === CLOSE_BRACE || ch === CLOSE_BRACKET) depth--;
  }
  return null;
}

/** Parses JSON text that passed {@link jsonTextProblem}: the value, or why it was refused. */
export function parseGuardedJson(
  text: string,
): { ok: true; value: unknown } | { ok: false; malformed: boolean; message: string } {
  const problem = jsonTextProblem(text);
  if (problem) return { ok: false, malformed: false, message: problem };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, malformed: true, message: "The text is not valid JSON." };
  }
}
