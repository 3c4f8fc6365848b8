import { z } from "zod";
import { lineText } from "../../lib/text";
import { templateProblems } from "./templates/checks";
import { MAIL_KINDS, type MailKind } from "./templates/kinds";
import { DEFAULT_BRAND_COLOR } from "./templates/layout";

/** The same tag shape a profile's `locale` accepts (users/schemas.ts), so every profile can match. */
const LOCALE_TAG = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/;
const MAX_LOCALES = 10;
/**
 * All overrides of a tenant together. The per-part limits alone would allow 8 × 10 × 120 kB, and
 * the tenant config is parsed on every request of the tenant, so the sum is bounded too.
 */
export const MAX_TEMPLATE_CHARS = 300_000;
const PARTS = ["subject", "text", "html"] as const;

// Every level is nullable because a PATCH merges into the stored config and `null` is how a
// merge removes a key (lib/tenant-config.ts): without it an override could never be taken back.
// The merge deletes the nulls before the config is validated and stored, so none is ever kept.
const templateOverride = z
  .object({
    subject: z.string().min(1).max(200).nullable().optional(),
    text: z.string().min(1).max(20_000).nullable().optional(),
    html: z.string().min(1).max(100_000).nullable().optional(),
  })
  .strict();

const overridesOfKind = z
  .record(z.string().max(35).regex(LOCALE_TAG, "a BCP 47 tag like en or es-MX"), templateOverride.nullable())
  .refine((v) => Object.keys(v).length <= MAX_LOCALES, `at most ${MAX_LOCALES} locales per kind`)
  // Tags match case-insensitively when rendering, so `es` and `ES` would be two answers to one question.
  .refine(
    (v) => new Set(Object.keys(v).map((k) => k.toLowerCase())).size === Object.keys(v).length,
    "a locale is listed twice (tags are case-insensitive)",
  );

/**
 * The overrides, checked as templates at write time (templates/checks.ts): a typo in a variable,
 * an unbalanced section or a variable placed where escaping does not protect it is a 400 for the
 * admin, never a broken or unsafe mail later.
 */
const templates = z.partialRecord(z.enum(MAIL_KINDS), overridesOfKind.nullable()).superRefine((all, ctx) => {
  let total = 0;
  for (const kind of MAIL_KINDS) {
    for (const [locale, parts] of Object.entries(all[kind] ?? {})) {
      for (const part of PARTS) {
        const source = parts?.[part];
        if (source == null) continue;
        total += source.length;
        for (const message of templateProblems(kind, part, source))
          ctx.addIssue({ code: "custom", path: [kind, locale, part], message });
      }
    }
  }
  if (total > MAX_TEMPLATE_CHARS)
    ctx.addIssue({ code: "custom", message: `templates hold at most ${MAX_TEMPLATE_CHARS} characters together` });
});

/**
 * The tenant config's `email` section: how the tenant's mails look (its colour, the sender's
 * display name) and what they say (per-kind, per-locale template overrides). The tenant's name
 * comes from the tenant itself, not from here, so a rename shows up in mails at once.
 */
export const emailSection = z
  .object({
    /** Header and button colour; only #rrggbb, because it is written into style attributes. */
    brandColor: z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, "a colour like #2563eb")
      .default(DEFAULT_BRAND_COLOR),
    /** The From display name (the tenant's name when unset); one line, so no header injection. */
    fromName: lineText(80).optional(),
    /** Overrides of the built-in templates: kind → locale tag → parts (docs/mail-templates.md). */
    templates: templates.default({}),
  })
  .strict()
  .prefault({});

/** The parsed `email` section, as the mail code reads it from the tenant config. */
export type EmailConfig = z.output<typeof emailSection>;

/** One stored override, with some or all of the three parts (null only ever appears in a PATCH). */
export type TemplateOverride = z.output<typeof templateOverride>;

export type { MailKind };
