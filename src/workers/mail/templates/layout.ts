import { escapeHtml } from "./engine";

/** The colour used when a tenant has none, or a stored one is not #rrggbb. */
export const DEFAULT_BRAND_COLOR = "#2563eb";

const HEX_COLOR = /^#[0-9a-f]{6}$/i;

/**
 * The tenant's colour if it is exactly #rrggbb, else the default. It goes into style
 * attributes, where escaping alone would not stop `red;background:url(…)`, so it is checked
 * here even though the config schema checks it too (a stored config may predate the schema).
 */
export const brandColor = (color: string): string =>
  HEX_COLOR.test(color) ? color.toLowerCase() : DEFAULT_BRAND_COLOR;

/** White or near-black, whichever reads better on `color` (WCAG relative luminance). */
export function textColorOn(color: string): string {
  const channel = (i: number) => {
    const c = Number.parseInt(color.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const luminance = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
  // Above ~0.179 dark text has the higher contrast ratio; below it, white.
  return luminance > 0.179 ? "#111827" : "#ffffff";
}

const FONT = "Arial,Helvetica,sans-serif";

/**
 * The frame around every HTML part: tables and inline styles only (many mail clients drop
 * <style> and ignore flex/grid), 600px wide at most, the tenant's name on its colour on top.
 * `content` is rendered HTML; every other input is text and escaped here.
 */
export function layout(input: {
  lang: string;
  title: string;
  brand: string;
  color: string;
  colorText: string;
  content: string;
}): string {
  const { lang, title, brand, color, colorText, content } = input;
  return `<!DOCTYPE html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
</head>
<body style="margin:0;padding:0;background:#f4f4f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f4f4f5;">
<tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:600px;background:#ffffff;border-radius:8px;">
<tr><td bgcolor="${color}" style="background:${color};color:${colorText};padding:20px 24px;border-radius:8px 8px 0 0;font:bold 20px ${FONT};">${escapeHtml(brand)}</td></tr>
<tr><td style="padding:24px;color:#18181b;font:16px/1.5 ${FONT};">
${content}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
`;
}

/** A text paragraph of a built-in body (a template: may hold tags). */
export const p = (body: string): string => `<p style="margin:0 0 16px;">${body}</p>`;

/** A smaller, grey paragraph: expiry notes, "if this was not you". */
export const note = (body: string): string => `<p style="margin:0 0 16px;color:#6b7280;font-size:14px;">${body}</p>`;

/** A one-time code, large and spaced so it is easy to read and copy. */
export const codeBlock = (variable: string): string =>
  `<p style="margin:0 0 16px;font:bold 28px/1.2 'Courier New',Courier,monospace;letter-spacing:6px;">{{${variable}}}</p>`;

/**
 * A button in the brand colour, shown only if the link variable survived (http(s) only), with
 * the same link as text below it for clients that block the button.
 */
export const button = (label: string, variable: string, fallback: string): string =>
  `{{#${variable}}}<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:8px 0 16px;">` +
  `<tr><td bgcolor="{{color}}" style="border-radius:6px;background:{{color}};">` +
  `<a href="{{${variable}}}" target="_blank" style="display:inline-block;padding:12px 24px;font:bold 16px ${FONT};color:{{colorText}};text-decoration:none;border-radius:6px;">${label}</a>` +
  `</td></tr></table>` +
  note(`${fallback} <a href="{{${variable}}}" style="color:{{color}};word-break:break-all;">{{${variable}}}</a>`) +
  `{{/${variable}}}`;

/** The digest's items, one row each: a section over `items`, each field escaped like any other. */
export const digestList =
  `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 16px;">` +
  `{{#items}}<tr><td style="padding:12px 0;border-top:1px solid #e5e7eb;">` +
  `<strong>{{title}}</strong> <span style="color:#6b7280;font-size:14px;">{{time}}</span><br>{{body}}` +
  `</td></tr>{{/items}}</table>`;
