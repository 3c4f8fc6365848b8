import { profileOf } from "../../db/tenant/profiles";
import type { UserRow } from "../../db/tenant/schema";
import { MailError } from "../../lib/mail/message";
import { log } from "../../lib/log";
import { PoisonError } from "../events/queues";
import type { TenantScope } from "../gateway/context";
import { renderMail, type MailKind, type MailVars } from "./templates";
import { mailFrom, mailTransport } from "./transport";

/** How a user is named in a mail: nickname, else username, else nothing (a neutral greeting). */
async function readerOf(s: TenantScope, user: UserRow): Promise<{ name: string; locale: string | null }> {
  const profile = await profileOf(s.db, user.id);
  return { name: profile?.nickname || user.username || "", locale: profile?.locale || null };
}

/** `Name <address>` with the tenant's sender name; the address stays the platform's MAIL_FROM. */
function senderOf(s: TenantScope): string {
  const from = mailFrom(s.env);
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from;
  const name = (s.tenant.config.email.fromName ?? s.tenant.name).replace(/["\\\r\n]/g, "");
  return `"${name}" <${address}>`;
}

/**
 * Renders a mail for a user (their locale and name, the tenant's brand and template overrides)
 * and sends it to `to`. For a queue consumer: a provider refusal that retrying cannot fix goes to
 * the dead-letter queue (PoisonError); anything else throws, and the queue retries with backoff.
 * The idempotency key is the same on every attempt of one logical mail.
 */
export async function sendUserMail<K extends MailKind>(
  s: TenantScope,
  user: UserRow,
  to: string,
  kind: K,
  vars: Omit<MailVars[K], "name">,
  idempotencyKey: string,
): Promise<void> {
  const reader = await readerOf(s, user);
  const rendered = renderMail(kind, {
    brand: { name: s.tenant.name, color: s.tenant.config.email.brandColor },
    locale: reader.locale,
    overrides: s.tenant.config.email.templates,
    vars: { ...vars, name: reader.name } as MailVars[K],
  });
  try {
    await mailTransport(s.env).send({ from: senderOf(s), to, ...rendered }, { idempotencyKey });
  } catch (err) {
    if (err instanceof MailError && !err.retryable) {
      log("warn", "mail refused by the provider", { tenantId: s.tenant.id, kind, error: err.message });
      throw new PoisonError(`mail ${kind} refused: ${err.message}`);
    }
    throw err;
  }
}
