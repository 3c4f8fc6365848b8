/**
 * A deliberately tiny template language, so that tenant-written templates can be checked and
 * rendered without a dependency or an evaluator: `{{name}}` prints a variable, `{{#name}}…{{/name}}`
 * renders its inside if the variable is set (once per item for a list), `{{^name}}…{{/name}}`
 * if it is not. There is no raw output (`{{{x}}}`), no partials, no expressions: every printed
 * value goes through the caller's `print`, which escapes for the part being rendered.
 */

/** A parsed template: literal text, a variable, or a section with its inside. */
export type TemplateNode =
  | string
  | { kind: "var"; name: string }
  | { kind: "section"; name: string; inverted: boolean; children: TemplateNode[] };

/** A value a template can print or test; a list is only used by a section (the digest's items). */
export type TemplateValue = string | number | boolean | null | undefined | readonly TemplateScope[];
/** The variables visible to a template, or to the inside of a list section (one item). */
export type TemplateScope = { readonly [name: string]: TemplateValue };

/** A template that does not parse: unbalanced sections, a stray `{{`, triple braces, too deep. */
export class TemplateError extends Error {
  override name = "TemplateError";
}

// No two adjacent quantifiers over the same characters: linear on "{{" and a run of spaces.
const TAG = /\{\{\s*(?:([#^/])\s*)?([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;
// Sections nest only a level or two in practice; the cap keeps rendering's recursion shallow
// whatever a 100 kB override contains.
const MAX_DEPTH = 4;

/** Parses `source`, or throws {@link TemplateError} saying what is wrong (shown to the admin). */
export function parseTemplate(source: string): TemplateNode[] {
  // Mustache's raw output; refused rather than printed escaped with braces around it, so an
  // admin who expects unescaped output learns at once that there is none.
  if (source.includes("{{{")) throw new TemplateError("triple braces (raw output) are not supported");
  const root: TemplateNode[] = [];
  const open: { name: string; children: TemplateNode[] }[] = [];
  let children = root;
  let last = 0;
  const literal = (text: string) => {
    const stray = text.indexOf("{{");
    if (stray >= 0) throw new TemplateError(`"{{" that is not a tag: ${JSON.stringify(text.slice(stray, stray + 24))}`);
    if (text) children.push(text);
  };
  for (const m of source.matchAll(TAG)) {
    literal(source.slice(last, m.index));
    last = m.index + m[0].length;
    const sigil = m[1] ?? "";
    const name = m[2] ?? "";
    if (sigil === "") {
      children.push({ kind: "var", name });
    } else if (sigil === "/") {
      const closed = open.pop();
      if (closed?.name !== name)
        throw new TemplateError(`{{/${name}}} closes ${closed ? `{{#${closed.name}}}` : "nothing"}`);
      children = open.at(-1)?.children ?? root;
    } else {
      if (open.length >= MAX_DEPTH) throw new TemplateError(`sections nest deeper than ${MAX_DEPTH}`);
      const section = { kind: "section" as const, name, inverted: sigil === "^", children: [] as TemplateNode[] };
      children.push(section);
      open.push(section);
      children = section.children;
    }
  }
  literal(source.slice(last));
  const unclosed = open.at(-1);
  if (unclosed) throw new TemplateError(`{{#${unclosed.name}}} is not closed`);
  return root;
}

/** Every variable and section name a template uses, for checking an override against its kind. */
export function namesIn(nodes: readonly TemplateNode[], into = new Set<string>()): Set<string> {
  for (const node of nodes) {
    if (typeof node === "string") continue;
    into.add(node.name);
    if (node.kind === "section") namesIn(node.children, into);
  }
  return into;
}

// Own properties only: `{{constructor}}` must print nothing, not a function's source.
function lookup(scopes: readonly TemplateScope[], name: string): TemplateValue {
  for (let i = scopes.length - 1; i >= 0; i--) {
    const scope = scopes[i];
    if (scope && Object.hasOwn(scope, name)) return scope[name];
  }
  return undefined;
}

const isSet = (v: TemplateValue): boolean =>
  Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null && v !== false && v !== "";

/**
 * Renders parsed `nodes`; `print` turns each printed value into output (escaping it for HTML, or
 * cleaning it for text). A list printed as a variable prints nothing; a list section renders
 * its inside once per item, with the item's fields in scope before the outer variables.
 */
export function renderTemplate(
  nodes: readonly TemplateNode[],
  scopes: readonly TemplateScope[],
  print: (name: string, value: string) => string,
): string {
  let out = "";
  for (const node of nodes) {
    if (typeof node === "string") {
      out += node;
      continue;
    }
    const value = lookup(scopes, node.name);
    if (node.kind === "var") {
      if (!Array.isArray(value) && isSet(value)) out += print(node.name, String(value));
    } else if (node.inverted) {
      if (!isSet(value)) out += renderTemplate(node.children, scopes, print);
    } else if (Array.isArray(value)) {
      for (const item of value as readonly TemplateScope[])
        out += renderTemplate(node.children, [...scopes, item], print);
    } else if (isSet(value)) {
      out += renderTemplate(node.children, scopes, print);
    }
  }
  return out;
}

// C0 controls but the line feed, DEL, C1 controls, zero-width space, BOM, and the bidirectional
// embeddings/overrides/isolates ("Trojan Source": text that reads differently than it is).
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200b\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** A value for the text part: as given, but CRLF/CR become LF and control characters go. */
export const cleanText = (value: string): string => value.replace(/\r\n?/g, "\n").replace(CONTROL, "");

/** One header line: control characters and line breaks (header injection) become one space. */
export const oneLine = (value: string): string =>
  value
    .replace(/[\r\n]+/g, " ")
    .replace(CONTROL, "")
    .replace(/\s{2,}/g, " ")
    .trim();

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Escapes for HTML text and for quoted attribute values alike. */
export const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);

/**
 * An http(s) URL, normalised, or "" for anything else (`javascript:`, `data:`, relative or
 * unparsable), so a link variable can only ever point at a web page.
 */
export function httpLink(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return "";
  }
  return url.protocol === "http:" || url.protocol === "https:" ? url.href : "";
}
