import { namesIn, parseTemplate, TemplateError } from "./engine";
import { LINK_VARIABLES, type MailKind, variablesOf } from "./kinds";

/** The three parts a template has; an override may give any of them. */
export type TemplatePart = "subject" | "text" | "html";

// Every pattern here runs on up to 100 kB a tenant admin wrote, on each write and each parse of
// the stored config, so none may backtrack more than linearly: no two adjacent quantifiers that
// can match the same characters, and the CSS regions are found by scanning, not by a lazy match.

// Attributes whose value is fetched or followed. Escaping keeps a value inside its quotes, but
// not from being `javascript:…` when it *starts* the value, so only link variables (which the
// renderer restricts to http(s)) may start one; after a fixed "https://…/" any variable is fine.
const URL_ATTRIBUTE =
  /\b(?:href|src|srcset|action|formaction|background|poster|cite|xlink:href)\s*=\s*(?:["']\s*)?\{\{\s*(?:([#^/])\s*)?([A-Za-z][A-Za-z0-9_]*)/gi;
const TAG_NAME = /\{\{\s*(?:[#^/]\s*)?([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;
// CSS is a language of its own: `{{name}}` in a style could add a tracking `url(…)`. Only the
// validated brand colours may go there.
const STYLE_VARIABLES: ReadonlySet<string> = new Set(["color", "colorText"]);
// HTML-escaping is the wrong escaping inside a script or an event handler (the browser decodes
// &#39; before the script sees it); mail clients strip both anyway, so they are refused outright.
// (An on…= anywhere is refused, inside a tag or not: simpler, and linear.)
const SCRIPT_TAG = /<script\b/i;
const EVENT_ATTRIBUTE = /\son[a-z]+\s*=/i;

/** The CSS of an HTML template: `<style>` blocks and `style="…"` values, found in one pass each. */
function cssRegions(html: string): string[] {
  const lower = html.toLowerCase();
  const out: string[] = [];
  for (let i = lower.indexOf("<style"); i !== -1; ) {
    const end = lower.indexOf("</style", i);
    out.push(html.slice(i, end === -1 ? html.length : end));
    i = end === -1 ? -1 : lower.indexOf("<style", end);
  }
  for (let i = lower.indexOf("style"); i !== -1; ) {
    let j = i + 5;
    while (j < lower.length && /\s/.test(lower[j]!)) j++;
    if (lower[j] !== "=") {
      i = lower.indexOf("style", i + 5);
      continue;
    }
    j++;
    while (j < lower.length && /\s/.test(lower[j]!)) j++;
    const quote = html[j];
    if (quote !== '"' && quote !== "'") {
      i = lower.indexOf("style", j);
      continue;
    }
    const close = html.indexOf(quote, j + 1);
    out.push(html.slice(j + 1, close === -1 ? html.length : close));
    i = close === -1 ? -1 : lower.indexOf("style", close + 1);
  }
  return out;
}

/** Where an HTML override places variables somewhere escaping does not make them safe. */
function htmlPlacementProblems(source: string): string[] {
  const problems: string[] = [];
  if (SCRIPT_TAG.test(source) || EVENT_ATTRIBUTE.test(source))
    problems.push("scripts and on… event attributes are not allowed");
  for (const m of source.matchAll(URL_ATTRIBUTE)) {
    const sigil = m[1] ?? "";
    const name = m[2] ?? "";
    if (sigil !== "" || !LINK_VARIABLES.has(name))
      problems.push(
        `a URL attribute may start only with a link variable (${[...LINK_VARIABLES].join(", ")}), not {{${sigil}${name}}}`,
      );
  }
  for (const css of cssRegions(source)) {
    for (const t of css.matchAll(TAG_NAME)) {
      if (!STYLE_VARIABLES.has(t[1] ?? ""))
        problems.push(`only {{color}} and {{colorText}} may appear in CSS, not {{${t[1]}}}`);
    }
  }
  return problems;
}

/**
 * What is wrong with a template for `kind`'s `part`, as messages for the admin (empty: fine).
 * The tenant config runs this on every override, so a typo (`{{nmae}}`) or an unsafe placement is
 * refused when the config is written, not discovered in a user's inbox.
 */
export function templateProblems(kind: MailKind, part: TemplatePart, source: string): string[] {
  let names: Set<string>;
  try {
    names = namesIn(parseTemplate(source));
  } catch (e) {
    if (e instanceof TemplateError) return [e.message];
    throw e;
  }
  const allowed = variablesOf(kind);
  const problems = [...names]
    .filter((n) => !allowed.has(n))
    .map((n) => `{{${n}}} is not a variable of ${kind} (it has ${[...allowed].join(", ")})`);
  if (part === "html") problems.push(...htmlPlacementProblems(source));
  return problems;
}
