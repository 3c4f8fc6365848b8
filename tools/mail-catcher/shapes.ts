/**
 * The two provider request shapes the mail catcher accepts, each read with its own zod schema
 * and turned into one stored form, {@link CaughtMail}. Two clients that send the same message in
 * the same provider's shape (the official SDK and Canopy's fetch transport) must produce equal
 * CaughtMail, which is how tests/node/mail-providers.test.ts checks Canopy's wire shapes.
 */
import { z } from "zod";

/** The provider shape a message arrived in. */
export type Provider = "resend" | "postmark";

/** A message as the catcher keeps it, whichever provider shape it came in. */
export interface CaughtMail {
  /** The id the catcher answered (Resend's `id`, Postmark's `MessageID`). */
  id: string;
  provider: Provider;
  from: string;
  to: string[];
  replyTo: string[];
  subject: string;
  text: string | null;
  html: string | null;
  headers: Record<string, string>;
  /** ISO 8601. */
  receivedAt: string;
}

/** What the sender controls: a CaughtMail without what the catcher adds. */
export type MailFields = Omit<CaughtMail, "id" | "provider" | "receivedAt">;

const oneOrMany = z.union([z.string().min(1), z.array(z.string().min(1)).min(1).max(50)]);
const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Resend's `POST /emails` (the fields a transactional send uses; others are accepted and ignored). */
const ResendBody = z
  .object({
    from: z.string().min(1),
    to: oneOrMany,
    subject: z.string().min(1),
    text: z.string().optional(),
    html: z.string().optional(),
    reply_to: oneOrMany.optional(),
    headers: z.record(z.string(), z.string()).optional(),
  })
  .refine((b) => b.text !== undefined || b.html !== undefined, { message: "Missing `html` or `text` field." });

/** Postmark's `POST /email`: comma-separated recipient lists, headers as `[{ Name, Value }]`. */
const PostmarkBody = z
  .object({
    From: z.string().min(1),
    To: z.string().min(1),
    Subject: z.string(),
    TextBody: z.string().optional(),
    HtmlBody: z.string().optional(),
    ReplyTo: z.string().optional(),
    Headers: z.array(z.object({ Name: z.string().min(1), Value: z.string() })).optional(),
    MessageStream: z.string().optional(),
  })
  .refine((b) => b.TextBody !== undefined || b.HtmlBody !== undefined, {
    message: "Provide either email TextBody or HtmlBody or both.",
  });

/** Splits `a@x, "Doe, Jane" <b@y>` at the commas outside quotes and angle brackets. */
export function splitAddresses(value: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  let angle = false;
  for (const ch of value) {
    if (ch === '"') quoted = !quoted;
    else if (ch === "<" && !quoted) angle = true;
    else if (ch === ">" && !quoted) angle = false;
    if (ch === "," && !quoted && !angle) {
      out.push(current.trim());
      current = "";
    } else current += ch;
  }
  out.push(current.trim());
  return out.filter((a) => a.length > 0);
}

/** The bare, lower-cased address of `addr` or `Name <addr>`, for matching `?to=`. */
export function bareAddress(mailbox: string): string {
  return (/<([^<>]+)>\s*$/.exec(mailbox)?.[1] ?? mailbox).trim().toLowerCase();
}

const firstIssue = (error: z.ZodError): string => {
  const issue = error.issues[0];
  if (!issue) return "Invalid request.";
  return issue.path.length ? `Invalid \`${issue.path.join(".")}\`: ${issue.message}` : issue.message;
};

/** A provider body read into stored fields, or why it is malformed. */
export type Parsed = { ok: true; mail: MailFields } | { ok: false; message: string };

/** Reads a Resend `POST /emails` body. */
export function parseResend(body: unknown): Parsed {
  const r = ResendBody.safeParse(body);
  if (!r.success) return { ok: false, message: firstIssue(r.error) };
  const b = r.data;
  return {
    ok: true,
    mail: {
      from: b.from,
      to: list(b.to),
      replyTo: list(b.reply_to),
      subject: b.subject,
      text: b.text ?? null,
      html: b.html ?? null,
      headers: b.headers ?? {},
    },
  };
}

/** Reads a Postmark `POST /email` body (comma-separated `To` and `ReplyTo`, headers as a list). */
export function parsePostmark(body: unknown): Parsed {
  const r = PostmarkBody.safeParse(body);
  if (!r.success) return { ok: false, message: firstIssue(r.error) };
  const b = r.data;
  return {
    ok: true,
    mail: {
      from: b.From,
      to: splitAddresses(b.To),
      replyTo: b.ReplyTo ? splitAddresses(b.ReplyTo) : [],
      subject: b.Subject,
      text: b.TextBody ?? null,
      html: b.HtmlBody ?? null,
      headers: Object.fromEntries((b.Headers ?? []).map((h) => [h.Name, h.Value])),
    },
  };
}

/** Every http(s) link in a text, without the punctuation that ends a sentence around it. */
export function linksIn(text: string): string[] {
  return [...text.matchAll(/https?:\/\/[^\s<>"'`]+/g)].map((m) => m[0].replace(/[.,;:!?)\]}]+$/, ""));
}
