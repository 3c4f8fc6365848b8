import type { EmailConfig } from "./config";
import { en, type Template } from "./templates/en";
import {
  cleanText,
  escapeHtml,
  httpLink,
  oneLine,
  parseTemplate,
  renderTemplate,
  TemplateError,
  type TemplateNode,
  type TemplateScope,
  type TemplateValue,
} from "./templates/engine";
import { es } from "./templates/es";
import { LINK_VARIABLES, type MailKind, type MailVars } from "./templates/kinds";
import { brandColor, layout, textColorOn } from "./templates/layout";

export { MAIL_KINDS } from "./templates/kinds";
export type { DigestItem, MailKind, MailVars } from "./templates/kinds";

/** The tenant as its mails show it: its name, and its colour (checked again before use). */
export interface Brand {
  name: string;
  color: string;
}

/** A mail ready for a transport: one subject line and both parts; `text` is never empty. */
export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** The locales with built-in templates; `en` is the last resort of every chain. */
const BUILT_IN: Readonly<Record<string, Record<MailKind, Template>>> = { en, es };
const FALLBACK_LOCALE = "en";
const LOCALE_TAG = /^[a-z]{2,3}(-[a-z0-9]{2,8})*$/;

/**
 * The locales to try for a profile's `locale`, most specific first, ending in `en`:
 * `es-MX` → es-mx, es, en. Lowercased because BCP 47 tags are case-insensitive; an empty or
 * malformed tag (profiles start with "") goes straight to `en`.
 */
export function localeChain(locale: string | null | undefined): string[] {
  const tag = (locale ?? "").trim().toLowerCase().replaceAll("_", "-");
  const chain: string[] = [];
  if (LOCALE_TAG.test(tag)) {
    const subtags = tag.split("-");
    for (let n = subtags.length; n > 0; n--) chain.push(subtags.slice(0, n).join("-"));
  }
  if (!chain.includes(FALLBACK_LOCALE)) chain.push(FALLBACK_LOCALE);
  return chain;
}

type Overrides = EmailConfig["templates"];
type Part = keyof Template;

/** A tenant's override of `kind` for `locale`, whatever case its tag was written in. */
function overrideOf(overrides: Overrides | undefined, kind: MailKind, locale: string) {
  const byLocale = overrides?.[kind];
  if (!byLocale) return undefined;
  for (const [tag, override] of Object.entries(byLocale))
    if (tag.toLowerCase() === locale) return override ?? undefined;
  return undefined;
}

// The config refuses overrides that do not parse, so this only guards a config stored before a
// stricter parser: such an override is skipped (the built-in is used) rather than failing the mail.
function parsed(source: string | null | undefined): TemplateNode[] | undefined {
  if (!source) return undefined;
  try {
    return parseTemplate(source);
  } catch (e) {
    if (e instanceof TemplateError) return undefined;
    throw e;
  }
}

/** Where a part comes from: the template, its locale, and whether the HTML is made from a text. */
interface Chosen {
  nodes: TemplateNode[];
  locale: string;
  htmlFromText: boolean;
}

/**
 * The first locale of the chain that has the part, a tenant's override before the built-in at
 * each step: an `es` override beats the built-in `es`, and the built-in `es` beats an `en`
 * override (the reader's language first). An override that gives `text` but no `html` also makes
 * the HTML, so both parts say what the tenant wrote; one that gives `html` but no `text` leaves
 * the built-in text, since a plain-text part cannot be made from markup reliably.
 */
function choose(kind: MailKind, part: Part, chain: string[], overrides: Overrides | undefined): Chosen {
  for (const locale of chain) {
    const override = overrideOf(overrides, kind, locale);
    const own = parsed(override?.[part]);
    if (own) return { nodes: own, locale, htmlFromText: false };
    const ownText = part === "html" ? parsed(override?.text) : undefined;
    if (ownText) return { nodes: ownText, locale, htmlFromText: true };
    const builtIn = BUILT_IN[locale]?.[kind][part];
    if (builtIn) return { nodes: parseTemplate(builtIn), locale, htmlFromText: false };
  }
  return { nodes: parseTemplate(en[kind][part]), locale: FALLBACK_LOCALE, htmlFromText: false };
}

/** The variables a template sees: the kind's, links reduced to http(s) or "", and the brand's. */
function scopeOf(vars: MailVars[MailKind], brand: Brand): TemplateScope {
  const color = brandColor(brand.color);
  const scope: Record<string, TemplateValue> = { ...vars, name: vars.name.trim() };
  for (const name of LINK_VARIABLES) {
    const value = scope[name];
    if (typeof value === "string") scope[name] = httpLink(value);
  }
  // Set last, so nothing in `vars` can replace the validated colour.
  scope.brand = oneLine(brand.name);
  scope.color = color;
  scope.colorText = textColorOn(color);
  return scope;
}

/** A value for HTML: cleaned like text, escaped, its line breaks kept as <br>. */
const htmlValue = (value: string): string => escapeHtml(cleanText(value)).replaceAll("\n", "<br>");

/** Literal text of a plain-text template, escaped, for an HTML part made from it. */
function escapeLiterals(nodes: readonly TemplateNode[]): TemplateNode[] {
  return nodes.map((node) => {
    if (typeof node === "string") return escapeHtml(cleanText(node));
    if (node.kind === "var") return node;
    return { ...node, children: escapeLiterals(node.children) };
  });
}

/** The HTML body of an override that only gave a text: escaped paragraphs, links clickable. */
function htmlOfText(nodes: readonly TemplateNode[], scope: TemplateScope): string {
  const body = renderTemplate(escapeLiterals(nodes), [scope], (name, value) => {
    const escaped = htmlValue(value);
    // Link variables hold only http(s) URLs by now (scopeOf), so they may be put in an href.
    return LINK_VARIABLES.has(name) ? `<a href="${escaped}">${escaped}</a>` : escaped;
  });
  return body
    .split(/\n{2,}/)
    .map((paragraph) => paragraph.trim())
    .filter(Boolean)
    .map((paragraph) => `<p style="margin:0 0 16px;">${paragraph.replaceAll("\n", "<br>")}</p>`)
    .join("\n");
}

/** A whole text part: controls out (the template's own too), at most one blank line in a row. */
const tidyText = (text: string): string =>
  cleanText(text)
    .split("\n")
    .map((line) => line.trimEnd())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();

/**
 * Renders one mail of `kind` for a reader: subject, text and HTML in the reader's locale (see
 * {@link localeChain}), from the tenant's overrides where it has them, else the built-ins.
 *
 * Escaping is per part, because each part is a different language: in the HTML every variable
 * is HTML-escaped and only http(s) links reach an `href`; in the text variables are printed as
 * given but without control characters; the subject is one line (no header injection). The
 * tenant's colour is checked to be #rrggbb before it reaches a style attribute.
 */
export function renderMail<K extends MailKind>(
  kind: K,
  input: { brand: Brand; locale?: string | null; overrides?: Overrides; vars: MailVars[K] },
): RenderedMail {
  const chain = localeChain(input.locale);
  const scope = scopeOf(input.vars, input.brand);
  const print = (_: string, value: string) => value;

  const part = (which: "subject" | "text", overrides: Overrides | undefined) =>
    renderTemplate(choose(kind, which, chain, overrides).nodes, [scope], print);
  // A subject, a plain-text part and an HTML body always: an override part that renders to
  // nothing (say "{{name}}" for a user without one) gives way to the built-in.
  const subject = oneLine(part("subject", input.overrides)) || oneLine(part("subject", undefined));
  const text = tidyText(part("text", input.overrides)) || tidyText(part("text", undefined));
  const body = (overrides: Overrides | undefined) => {
    const chosen = choose(kind, "html", chain, overrides);
    const content = chosen.htmlFromText
      ? htmlOfText(chosen.nodes, scope)
      : renderTemplate(chosen.nodes, [scope], (_, value) => htmlValue(value));
    return { locale: chosen.locale, content };
  };
  let html = body(input.overrides);
  if (!html.content.trim()) html = body(undefined);

  return {
    subject,
    text,
    html: layout({
      lang: html.locale,
      title: subject,
      brand: String(scope.brand),
      color: String(scope.color),
      colorText: String(scope.colorText),
      content: html.content,
    }),
  };
}
