import { z } from "zod";
import { challengesForEvent, markChallengeSent } from "../../db/tenant/email-challenges";
import type { EmailChallengeRow, EmailPurpose, UserRow } from "../../db/tenant/schema";
import { findUserByEmail, findUserById } from "../../db/tenant/users";
import type { CloudEvent } from "../../lib/events";
import { hubStub } from "../../durable/protocol/stubs";
import { log } from "../../lib/log";
import { PoisonError, type Consumer } from "../events/queues";
import type { TenantScope } from "../gateway/context";
import { sendUserMail } from "../mail/send";
import type { MailKind, MailVars } from "../mail/templates";
import { UNDO_HOURS } from "./email-change";
import { EMAIL_EVENTS } from "./email-flows";
import { newChallenge, openChallenge } from "./email-secrets";

/** The events this consumer turns into mail (the auth module routes them to the notification queue). */
export const EMAIL_CONSUMER_TYPES = [
  "user.registered",
  EMAIL_EVENTS.verificationRequested,
  EMAIL_EVENTS.resetRequested,
  EMAIL_EVENTS.codeRequested,
  EMAIL_EVENTS.changeRequested,
  EMAIL_EVENTS.passwordChanged,
] as const;

const ByUser = z.object({ userId: z.string().min(1) });
const PasswordChanged = ByUser.extend({ reason: z.enum(["reset", "change"]).optional() });
const ByEmail = z.object({ email: z.string().min(1) });
const Change = z.object({ userId: z.string().min(1), newEmail: z.string().min(1) });

function dataOf<T>(schema: z.ZodType<T>, event: CloudEvent): T {
  const r = schema.safeParse(event.data);
  if (!r.success) throw new PoisonError(`bad data for ${event.type}: ${r.error.issues[0]?.message ?? "invalid"}`);
  return r.data;
}

/** Where the tenant's app takes links: its configured app URL, else the API origin's own pages. */
function linkTo(s: TenantScope, page: string, token: string): string {
  const origin = (s.env.TENANT_ORIGIN || "http://{slug}.localhost:8787").replace("{slug}", s.tenant.slug);
  const base = s.tenant.config.signIn.appUrl ?? `${origin}/v1/auth/pages`;
  return `${base.replace(/\/+$/, "")}/${page}?token=${encodeURIComponent(token)}`;
}

const minutes = (s: TenantScope) => s.tenant.config.auth.emailTokenMinutes;

/** A template and its variables, kept together so each kind gets its own variables. */
type Mail = { [K in MailKind]: { kind: K; vars: Omit<MailVars[K], "name"> } }[MailKind];

/** What a challenge's mail is made of: its secret, and the new address of an address change. */
interface MailInput {
  token: string;
  code: string;
  newEmail: string;
}

/** The mail each kind of challenge sends; its link opens the matching page (email-pages.ts). */
const MAIL_OF: Record<EmailPurpose, (s: TenantScope, m: MailInput) => Mail> = {
  verify_email: (s, { token, code }) => ({
    kind: "verify_email",
    vars: { link: linkTo(s, "verify-email", token), code, expiresMinutes: minutes(s) },
  }),
  password_reset: (s, { token, code }) => ({
    kind: "password_reset",
    vars: { link: linkTo(s, "reset-password", token), code, expiresMinutes: minutes(s) },
  }),
  sign_in_code: (s, { code }) => ({ kind: "sign_in_code", vars: { code, expiresMinutes: minutes(s) } }),
  email_change: (s, { token, newEmail }) => ({
    kind: "email_change_confirm",
    vars: { newEmail, link: linkTo(s, "confirm-email-change", token), expiresMinutes: 24 * 60 },
  }),
  email_undo: (s, { token, newEmail }) => ({
    kind: "email_change_notice",
    vars: { newEmail, undoLink: linkTo(s, "undo-email-change", token), undoHours: UNDO_HOURS },
  }),
};

/**
 * Makes (or, for a redelivered event, finds) the event's challenges and sends each mail that has
 * not gone out; a challenge whose mail went out has no sealed copy left, so nothing repeats. The
 * provider's idempotency key is the event and the purpose, the same on every redelivery.
 */
async function challengeAndSend(
  s: TenantScope,
  event: CloudEvent,
  user: UserRow,
  fresh: EmailChallengeRow[],
  newEmail = "",
): Promise<void> {
  for (const row of await challengesForEvent(s.db, fresh)) {
    const secret = await openChallenge(s.env, s.tenant.id, row);
    if (!secret || row.userId !== user.id) continue;
    const { kind, vars } = MAIL_OF[row.purpose](s, { ...secret, newEmail });
    const sending = sendUserMail(s, user, row.email, kind, vars, `${event.id}:${row.purpose}`);
    if (await delivered(s, sending)) await markChallengeSent(s.db, row.id, Date.now());
  }
}

/**
 * Waits for a send. A refusal retrying cannot fix (sendUserMail's PoisonError: a bad key, an
 * unverified sender, mail not configured) is logged and dropped here rather than dead-lettering
 * the event: the event is shared with the notification queue's other consumers (the inbox,
 * webhooks), which must not be held up by a mail that cannot go. Transient failures still throw,
 * so the queue retries (the challenge keeps its sealed copy and the same mail goes again).
 */
async function delivered(s: TenantScope, sending: Promise<void>): Promise<boolean> {
  try {
    await sending;
    return true;
  } catch (err) {
    if (!(err instanceof PoisonError)) throw err;
    log("error", "mail not sent and dropped", { tenantId: s.tenant.id, error: err.message });
    return false;
  }
}

/** One challenge with a link and a code, valid for the tenant's emailTokenMinutes, and its mail. */
async function linkAndCode(
  s: TenantScope,
  event: CloudEvent,
  user: UserRow,
  email: string,
  purpose: "verify_email" | "password_reset" | "sign_in_code",
): Promise<void> {
  const fresh = await newChallenge(s.env, s.tenant.id, {
    eventId: event.id,
    purpose,
    userId: user.id,
    email,
    ttlMs: minutes(s) * 60_000,
    code: true,
  });
  await challengeAndSend(s, event, user, [fresh]);
}

async function verification(s: TenantScope, event: CloudEvent, userId: string): Promise<void> {
  const user = await findUserById(s.db, userId);
  if (!user?.email || user.status !== "active" || user.emailVerifiedAt !== null) return;
  if (s.tenant.config.signIn.emailVerification === "off") return;
  await linkAndCode(s, event, user, user.email, "verify_email");
}

/** A reset or sign-in code for an address: an unknown or inactive account gets no mail. */
async function byAddress(s: TenantScope, event: CloudEvent, purpose: "password_reset" | "sign_in_code") {
  const user = await findUserByEmail(s.db, dataOf(ByEmail, event).email);
  if (!user?.email || user.status !== "active") return;
  if (purpose === "sign_in_code" && !s.tenant.config.signIn.emailCode) return;
  await linkAndCode(s, event, user, user.email, purpose);
}

/** A change of address: a confirmation link to the new one, a notice with an undo link to the old one. */
async function change(s: TenantScope, event: CloudEvent): Promise<void> {
  const { userId, newEmail } = dataOf(Change, event);
  const user = await findUserById(s.db, userId);
  if (!user || user.status !== "active") return;
  const data = { oldEmail: user.email, newEmail };
  const confirm = await newChallenge(s.env, s.tenant.id, {
    eventId: event.id,
    purpose: "email_change",
    userId,
    email: newEmail,
    ttlMs: 24 * 3_600_000,
    code: false,
    data,
  });
  // The undo goes to the old address; an account that had none has nobody to warn.
  const undo = user.email
    ? [
        await newChallenge(s.env, s.tenant.id, {
          eventId: event.id,
          purpose: "email_undo",
          userId,
          email: user.email,
          ttlMs: UNDO_HOURS * 3_600_000,
          code: false,
          data,
        }),
      ]
    : [];
  // A taken address is not told apart here: its owner gets the link, which fails at confirmation.
  await challengeAndSend(s, event, user, [confirm, ...undo], newEmail);
}

/**
 * After a password reset or change: for a reset, the sessions opened before it end again (see
 * below); then the security notice goes out (repeats are bounded by the provider key).
 */
async function passwordChanged(s: TenantScope, event: CloudEvent): Promise<void> {
  const { userId, reason } = dataOf(PasswordChanged, event);
  const changedAt = event.time ? Date.parse(event.time) : Date.now();
  // The reset revokes every session right after its commit, but that call can fail (the hub
  // unreachable, the Worker gone) and nothing in the user row makes the hub refuse the old
  // sessions. This event was written in the reset's own transaction, so it is the durable
  // second try: a failure here throws and the queue retries. Only sessions opened by the reset's
  // time end, so a late delivery spares the sign-ins made with the new password. (A password
  // change keeps the caller's session, which the event does not name, so it is not repeated.)
  if (reason === "reset") await hubStub(s.env, s.tenant.id, userId).revokeOpenedBefore("password_reset", changedAt);
  const user = await findUserById(s.db, userId);
  if (!user?.email || user.status === "deleted") return;
  const time = `${new Date(changedAt).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  await delivered(s, sendUserMail(s, user, user.email, "password_changed", { time }, `${event.id}:password_changed`));
}

/**
 * The auth service's mail: each event that asks for one becomes its challenges (stored hashed,
 * keyed by the event so a redelivery makes none) and its mail, sent through the tenant's
 * templates. Types it does not know are left alone (it shares the notification queue).
 */
export const authEmailConsumer: Consumer = async (event, s) => {
  switch (event.type) {
    case "user.registered":
    case EMAIL_EVENTS.verificationRequested:
      return verification(s, event, dataOf(ByUser, event).userId);
    case EMAIL_EVENTS.resetRequested:
      return byAddress(s, event, "password_reset");
    case EMAIL_EVENTS.codeRequested:
      return byAddress(s, event, "sign_in_code");
    case EMAIL_EVENTS.changeRequested:
      return change(s, event);
    case EMAIL_EVENTS.passwordChanged:
      return passwordChanged(s, event);
  }
};
