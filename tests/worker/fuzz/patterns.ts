import fc from "fast-check";

/**
 * A document pattern made of one character class (or `\d`/`\w`) repeated: `^[…]+$`, `^[…]*$`,
 * `^[…]{a,b}$`. zod renders flagged regexes as `source/flags`, so a trailing `/u` is the flag.
 */
const SINGLE_CLASS = /^\^(\[(?:\\.|[^\]\\])+\]|\\[dw])(\+|\*|\{(\d+)(?:(,)(\d*))?\})\$$/;

/** How many candidates a pattern that is not a single class gets before the last one is taken. */
const CANDIDATES = 16;

/**
 * A generator of strings that match a document regex and fit `minLength`/`maxLength`, or undefined
 * when fast-check cannot generate from the regex. A filter over `stringMatching` is no answer: a
 * pattern without length bounds (`^[A-Za-z0-9_-]+$`) mostly yields short strings, so a filter for
 * `minLength: 16` rejects nearly all of them and spins forever, hanging workerd without a word.
 * A single-class pattern therefore gets the lengths written into its quantifier; any other pattern
 * draws a fixed number of candidates and takes the first that fits (else the last: a baseline
 * the server may refuse with a 400, which is better than no run at all).
 */
export function patternArb(pattern: string, minLength = 0, maxLength?: number): fc.Arbitrary<string> | undefined {
  const unicode = pattern.endsWith("/u");
  const source = unicode ? pattern.slice(0, -2) : pattern;
  const flags = unicode ? "u" : "";
  const single = SINGLE_CLASS.exec(source);
  if (single) {
    const [, atom, quantifier, from, comma, to] = single;
    const [qMin, qMax] =
      quantifier === "+"
        ? [1, Infinity]
        : quantifier === "*"
          ? [0, Infinity]
          : [Number(from), comma === undefined ? Number(from) : to ? Number(to) : Infinity];
    const lo = Math.max(minLength, qMin);
    // Long enough to be interesting, short enough to keep requests small.
    const hi = Math.min(maxLength ?? Infinity, qMax, lo + 32);
    if (hi < lo) return undefined;
    return fc.stringMatching(new RegExp(`^${atom}{${lo},${hi}}$`, flags));
  }
  let base: fc.Arbitrary<string>;
  try {
    base = fc.stringMatching(new RegExp(source, flags));
  } catch {
    return undefined;
  }
  const fits = (v: string) => v.length >= minLength && v.length <= (maxLength ?? Infinity);
  return fc
    .array(base, { minLength: CANDIDATES, maxLength: CANDIDATES })
    .map((candidates) => candidates.find(fits) ?? candidates[CANDIDATES - 1]!);
}
