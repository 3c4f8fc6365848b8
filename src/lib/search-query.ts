import { AppError } from "./errors";

/**
 * A search string as every full-text or LIKE query receives it: normalised and validated here,
 * once, for every search route (user search, admin user search, message search).
 */
export interface SearchQuery {
  /** The normalised text: NFKC, whitespace runs collapsed, trimmed (and lowercased when asked). */
  text: string;
  /** A `LIKE … ESCAPE '\'` pattern matching the text anywhere. */
  like: string;
  /**
   * An FTS5 phrase for the text, or null when it is shorter than the trigram tokenizer's three
   * characters (such queries take the LIKE path).
   */
  phrase: string | null;
}

// C0 and C1 controls (NUL included), and the noncharacters U+FFFE/U+FFFF. SQLite treats NUL as a
// string terminator inside FTS5 queries and LIKE patterns; no search needs any of these.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]/u;

/** Longest normalised query, in characters (NFKC can expand what the schema bounded). */
export const MAX_QUERY_CHARS = 200;

/** Normalises and validates a search string; 400 `invalid_query` when nothing searchable is left. */
export function searchQuery(raw: string, opts: { lowercase?: boolean } = {}): SearchQuery {
  if (/\p{Cs}/u.test(raw)) throw new AppError("invalid_query", "The search text is not well-formed Unicode.");
  let text = raw.normalize("NFKC");
  if (CONTROL.test(text.replace(/[\t\n\r]/g, " ")))
    throw new AppError("invalid_query", "The search text must not contain control characters.");
  text = text.replace(/\s+/gu, " ").trim();
  if (opts.lowercase) text = text.toLowerCase();
  const chars = [...text].length;
  if (chars === 0) throw new AppError("invalid_query", "The search text is empty.");
  if (chars > MAX_QUERY_CHARS)
    throw new AppError("invalid_query", `The search text is longer than ${MAX_QUERY_CHARS} characters.`);
  return {
    text,
    like: `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`,
    phrase: chars >= 3 ? `"${text.replaceAll('"', '""')}"` : null,
  };
}
