/**
 * Catalogues of hostile values. Cases pick from them by index, so a case stays a small printable
 * record that the seed reproduces; anything random inside a pick comes from {@link prng}.
 */

/** A small deterministic PRNG (mulberry32) for the bytes of one case, seeded by the case's salt. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `list[i]` for any integer i (cases carry free-running indexes). */
export const pick = <T>(list: readonly T[], i: number): T => list[Math.abs(Math.trunc(i)) % list.length]!;

/** Unpadded base64url, as the API's cursors and tokens use. */
export function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const b64json = (v: unknown) => base64url(utf8(JSON.stringify(v)));

/** JSON values of every type, for "wrong type" mutations (the schema check decides which are wrong). */
export const WRONG_TYPES: readonly unknown[] = [
  0,
  -1,
  1.5,
  1e308,
  9007199254740993,
  "",
  "0",
  "true",
  "null",
  "𝕏",
  true,
  false,
  null,
  [],
  [1],
  [null],
  {},
  { a: 1 },
  [[[]]],
];

/** Path segments no id looks like. `raw` ones go into the URL unencoded (traversal, stray escapes). */
export const PATH_GARBAGE: readonly { value: string; raw?: boolean }[] = [
  { value: "\u0000" },
  { value: "%00", raw: true },
  { value: "null" },
  { value: "undefined" },
  { value: "-1" },
  { value: "0" },
  { value: "' OR '1'='1" },
  { value: "<script>alert(1)</script>" },
  { value: "a".repeat(65) },
  { value: "z".repeat(10_000) },
  { value: " " },
  { value: "\t\n" },
  { value: "😀" },
  { value: "ＡＢＣ" },
  { value: "*" },
  { value: "%" },
  { value: "%zz", raw: true },
  { value: "%ED%A0%80", raw: true },
  { value: "%FF%FE", raw: true },
  { value: "a/b" },
  { value: "..", raw: true },
  { value: "%2e%2e", raw: true },
  { value: "..%2f..%2fadmin", raw: true },
  { value: "${7*7}" },
  { value: "[]" },
  { value: "{}" },
  { value: "NaN" },
  { value: "1e9999" },
  { value: "0x10" },
  { value: "\u202egnp.exe" },
  { value: "\u0001\u001f\u007f" },
];

/** Query values that break most typed parameters. */
export const QUERY_GARBAGE: readonly string[] = [
  "",
  " ",
  "abc",
  "-1",
  "0",
  "1.5",
  "1e3",
  "0x10",
  "NaN",
  "Infinity",
  "999999999999999999999",
  "\u0000",
  "a\u0000b",
  "q".repeat(10_000),
  "true",
  "null",
  "[]",
  "😀",
  "\u202e",
  "\u0007\u001b[31m",
  "' OR 1=1 --",
  "%",
];

/** Raw query tails: broken escapes, repeated and prototype-ish keys. Never asserted, only survived. */
export const RAW_QUERY: readonly string[] = [
  "%",
  "%zz",
  "&&&",
  "=",
  "==",
  "a=%E0%A4%A",
  "limit=1&limit=2",
  "x[]=1&x[]=2",
  "__proto__=1",
  "constructor[prototype]=1",
  "%FF%FE=%00",
  "cursor",
  "q=%ED%A0%80",
];

/** Cursors this API never issued: wrong arity, wrong types, injection, random bytes, non-base64url. */
export function forgedCursor(i: number, salt: number): string {
  const rnd = prng(salt);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  const forged: (() => string)[] = [
    () => b64json([]),
    () => b64json([1, "x"]),
    () => b64json(["x"]),
    () => b64json([null]),
    () => b64json([{ nested: true }]),
    () => b64json([1e308, "zzzzzzzzzzzzzzzzzzzzzzzzzz"]),
    () => b64json(["zzzzzzzzzzzzzzzzzzzzzzzzzz"]),
    () => b64json([-1]),
    () => b64json([0, ""]),
    () => b64json(["'; DROP TABLE users; --"]),
    () => b64json([9007199254740993, "a"]),
    () => b64json([true]),
    () => b64json(["\u0000"]),
    () => b64json([Date.now() + 86_400_000, "0000000000zzzzzzzzzzzzzzzz"]),
    () => base64url(bytes(1 + Math.floor(rnd() * 140))),
    () => base64url(utf8("not json at all")),
    () => "garbage",
    () => "A".repeat(200),
    () => `${b64json(["x"])}==`,
    () => btoa(JSON.stringify([1, "a/b+c"])),
  ];
  return pick(forged, i)();
}

/** Byte sequences that are not UTF-8: stray continuation, overlong, surrogates, past U+10FFFF, truncated. */
export const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xfc, 0x84, 0x80, 0x80, 0x80, 0x80],
];

/** Control and format characters other than NUL: survived, not asserted (tabs and newlines are text). */
export const CONTROL: readonly string[] = [
  "\u0001",
  "\u0007",
  "\b",
  "\u001b[2J",
  "\u001f",
  "\u007f",
  "\u0085",
  "\u200b",
  "\u202e",
  "\ufeff",
  "\r\n",
  "\u2028",
  "\t",
];

/** Bodies that are not JSON, built from the baseline's text; candidates that parse are skipped. */
export function malformedJson(text: string, i: number, salt: number): string {
  const cut = text.length > 1 ? 1 + (Math.abs(salt) % (text.length - 1)) : 0;
  const candidates = [
    text.slice(0, cut),
    `${text}}`,
    `${text},`,
    "{'a':1}",
    '{"a":}',
    "[1,]",
    "NaN",
    "undefined",
    '{"a":1}{"b":2}',
    `\u0000${text}`,
    text.replace(/"/g, "'"),
    "{",
    "[",
    '"',
    "",
    `/* c */${text}`,
    '{"a":1,}',
    '{"a"\u0000:1}',
    "0x10",
    '{"a":01}',
  ];
  for (let k = 0; k < candidates.length; k++) {
    const c = pick(candidates, i + k);
    if (!parses(c)) return c;
  }
  return "{";
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Content types a JSON or form route must refuse (none is a +json or form type). */
export const WRONG_CONTENT_TYPES: readonly string[] = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=fuzz",
  "application/xml",
  "application/octet-stream",
  "application/jsonx",
  "text/json",
  "image/png",
  "application/json",
];

/** X-Tenant values naming no tenant: unknown slugs and strings no slug can be. */
export const TENANT_GARBAGE: readonly string[] = [
  "nope-fuzz-none",
  "",
  " ",
  "a",
  "x".repeat(100),
  "..",
  "UPPER-CASE-NONE",
  "t_under_score",
  "-lead",
];

/** Idempotency-Key and other header values that break `minLength` or `maxLength`. */
export const HEADER_GARBAGE: readonly string[] = ["short", "k".repeat(129), "", "has spaces in it ok"];

/** JSON nested `depth` deep, as text (building it as a value would only test the test's own stack). */
export function deepJson(depth: number, shape: "array" | "object"): string {
  return shape === "array"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}
