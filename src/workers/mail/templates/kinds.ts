/**
 * The mails Canopy sends and the variables each one takes. One list, shared by the renderer
 * (what a template may print), the tenant config (which overrides it accepts and which variables
 * an override may name) and the callers (what they must pass).
 */

/** Every kind of mail, in the order the docs list them. */
export const MAIL_KINDS = [
  "verify_email",
  "password_reset",
  "password_changed",
  "sign_in_code",
  "email_change_confirm",
  "email_change_notice",
  "notification",
  "digest",
] as const;

/** One kind of mail; the tenant config keys its template overrides by it. */
export type MailKind = (typeof MAIL_KINDS)[number];

/** One entry of a digest; `time` is already formatted for the reader by the caller. */
export type DigestItem = { title: string; body: string; time: string };

/**
 * The variables of each kind. `name` may be empty (the user has no nickname yet): templates then
 * greet without one. Times are strings the caller formatted, because only it knows the zone.
 */
export interface MailVars {
  verify_email: { name: string; link: string; code: string; expiresMinutes: number };
  password_reset: { name: string; link: string; code: string; expiresMinutes: number };
  password_changed: { name: string; time: string };
  sign_in_code: { name: string; code: string; expiresMinutes: number };
  email_change_confirm: { name: string; newEmail: string; link: string; expiresMinutes: number };
  email_change_notice: { name: string; newEmail: string; undoLink: string; undoHours: number };
  notification: { name: string; title: string; body: string; link?: string };
  digest: { name: string; items: DigestItem[]; link?: string };
}

/** The variable names of each kind, checked against {@link MailVars} by the compiler. */
export const KIND_VARIABLES = {
  verify_email: ["name", "link", "code", "expiresMinutes"],
  password_reset: ["name", "link", "code", "expiresMinutes"],
  password_changed: ["name", "time"],
  sign_in_code: ["name", "code", "expiresMinutes"],
  email_change_confirm: ["name", "newEmail", "link", "expiresMinutes"],
  email_change_notice: ["name", "newEmail", "undoLink", "undoHours"],
  notification: ["name", "title", "body", "link"],
  digest: ["name", "items", "link"],
} as const satisfies { [K in MailKind]: readonly (keyof MailVars[K])[] };

/** Inside `{{#items}}…{{/items}}` of a digest, the fields of one item. */
export const DIGEST_ITEM_VARIABLES = ["title", "body", "time"] as const satisfies readonly (keyof DigestItem)[];

/**
 * Variables every template has besides its kind's: the tenant's name, its colour (#rrggbb,
 * already validated) and the text colour readable on it (for a button or a header).
 */
export const COMMON_VARIABLES = ["brand", "color", "colorText"] as const;

/**
 * Variables holding a URL. Only these may open an `href`/`src` value, and the renderer drops
 * any of them that is not an http(s) URL (a `javascript:` or `data:` link must never be clickable).
 */
export const LINK_VARIABLES: ReadonlySet<string> = new Set(["link", "undoLink"]);

/** Every name a template of `kind` may print, for validating a tenant's override. */
export function variablesOf(kind: MailKind): ReadonlySet<string> {
  const names: string[] = [...KIND_VARIABLES[kind], ...COMMON_VARIABLES];
  if (kind === "digest") names.push(...DIGEST_ITEM_VARIABLES);
  return new Set(names);
}
