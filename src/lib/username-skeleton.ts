import { confusablePairs } from "./confusables.gen";

/**
 * Look-alike usernames (docs/identity.md, "Usernames"): two usernames of a tenant may not share a
 * skeleton, the UTS #39 §4 form in which confusable characters (Cyrillic `а` and Latin `a`, `0`
 * and `O`, `rn` and `m`) coincide; and a new username must be of one script, or of one of the
 * combinations UTS #39 §5.2 "highly restrictive" allows (Latin with Han and Japanese kana, with
 * Han and Bopomofo, or with Han and Hangul).
 */

// Beyond confusables.txt: Cyrillic `м` reads as Latin `m` in the italic and handwriting styles
// many apps use (the table maps it to a turned w). Prototypes here are already skeletons.
const SUPPLEMENT: Record<string, string> = { м: "rn", М: "rn" };

let table: Map<string, string> | undefined;
function prototypes(): Map<string, string> {
  if (!table) {
    table = new Map(Object.entries(SUPPLEMENT));
    for (const line of confusablePairs.split("\n")) {
      const tab = line.indexOf("\t");
      if (!table.has(line.slice(0, tab))) table.set(line.slice(0, tab), line.slice(tab + 1));
    }
  }
  return table;
}

/** The skeleton of a canonical (NFKC, lowercased) username: NFD, prototypes, NFD, lowercased. */
export function usernameSkeleton(username: string): string {
  const map = prototypes();
  let out = "";
  for (const ch of username.normalize("NFD")) out += map.get(ch) ?? ch;
  return out.normalize("NFD").toLowerCase();
}

const SCRIPTS: [name: string, re: RegExp][] = [
  ["Latin", /\p{Script=Latin}/u],
  ["Cyrillic", /\p{Script=Cyrillic}/u],
  ["Greek", /\p{Script=Greek}/u],
  ["Han", /\p{Script=Han}/u],
  ["Hiragana", /\p{Script=Hiragana}/u],
  ["Katakana", /\p{Script=Katakana}/u],
  ["Hangul", /\p{Script=Hangul}/u],
  ["Bopomofo", /\p{Script=Bopomofo}/u],
  ["Arabic", /\p{Script=Arabic}/u],
  ["Hebrew", /\p{Script=Hebrew}/u],
  ["Thai", /\p{Script=Thai}/u],
  ["Devanagari", /\p{Script=Devanagari}/u],
  ["Armenian", /\p{Script=Armenian}/u],
  ["Georgian", /\p{Script=Georgian}/u],
];
const ALLOWED_MIXES = [
  new Set(["Latin", "Han", "Hiragana", "Katakana"]),
  new Set(["Latin", "Han", "Bopomofo"]),
  new Set(["Latin", "Han", "Hangul"]),
];

/** The scripts of a string's letters (digits, marks and punctuation belong to none). */
export function scriptsOf(text: string): Set<string> {
  const found = new Set<string>();
  for (const ch of text) {
    if (!/\p{L}/u.test(ch)) continue;
    found.add(SCRIPTS.find(([, re]) => re.test(ch))?.[0] ?? "Other");
  }
  return found;
}

/** Whether a username's letters keep to one script or an allowed combination. */
export function singleScript(text: string): boolean {
  const scripts = scriptsOf(text);
  if (scripts.size <= 1) return true;
  return ALLOWED_MIXES.some((mix) => [...scripts].every((s) => mix.has(s)));
}
