import { z } from "@hono/zod-openapi";

/**
 * Free text that other people see (names, titles, descriptions, bios): stored as sent, except
 * for characters that only serve to deceive or break a display: C0 and C1 controls (line breaks
 * and tabs are allowed in multi-line text), bidirectional embeddings, overrides and isolates
 * (U+202A–U+202E, U+2066–U+2069: the "Trojan Source" reordering), the zero-width space and BOM,
 * and the noncharacters U+FFFE/U+FFFF. Zero-width joiners stay: emoji sequences and Indic
 * scripts need them. HTML is not special here; consumers escape it (docs/security.md).
 */
const DECEPTIVE = "\\u0080-\\u009f\\u200b\\u202a-\\u202e\\u2066-\\u2069\\ufeff\\ufffe\\uffff\\u007f";
const LINE = new RegExp(`[\\u0000-\\u001f${DECEPTIVE}]`, "u");
const MULTILINE = new RegExp(`[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f${DECEPTIVE}]`, "u");
const MESSAGE = "must not contain control characters or bidirectional formatting characters";

/** One line of display text, trimmed, `min`–`max` characters. */
export const lineText = (max: number, min = 1) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine((v) => !LINE.test(v), MESSAGE);

/** Display text that may span lines (tabs and line breaks allowed), trimmed, at most `max` characters. */
export const multilineText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((v) => !MULTILINE.test(v), MESSAGE);

/**
 * A tag (posts, content products): one line of at most 32 characters, case-folded (lowercase
 * after NFKC, so "Cats", " cats " and "ＣＡＴＳ" are one tag).
 */
export const TagSchema = lineText(32).transform((t) => t.normalize("NFKC").toLowerCase());
