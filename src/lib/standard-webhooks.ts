/**
 * Standard Webhooks signing (https://www.standardwebhooks.com), with Web Crypto only:
 * `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`, several
 * signatures separated by spaces while a rotated secret is still in its overlap. Pure: no I/O.
 * Outgoing tenant webhooks sign with it (src/workers/webhooks/deliver.ts); the sandbox payment
 * provider signs and verifies its confirmations with it (src/lib/payments/sandbox.ts).
 */
import { constantTimeEqual } from "./crypto";

const PREFIX = "whsec_";
const SECRET_BYTES = 32;
const encoder = new TextEncoder();
/** The reference libraries' tolerance: how far a message's timestamp may be from the receiver's clock. */
export const DEFAULT_TOLERANCE_S = 300;
// A sender signs with one or two secrets (two during a rotation's overlap); more entries than this
// is not a sender we know, and checking each costs an HMAC comparison per secret.
const MAX_SIGNATURES = 16;

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A new signing secret: `whsec_` + base64 of 32 random bytes (the spec asks for 24 to 64). */
export function newWebhookSecret(): string {
  return PREFIX + toBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)));
}

/** The HMAC key bytes of a `whsec_…` secret; throws {@link StandardWebhookError} (`bad_secret`) for anything else. */
export function secretKey(secret: string): Uint8Array<ArrayBuffer> {
  if (!secret.startsWith(PREFIX)) throw new StandardWebhookError("bad_secret", "webhook secrets start with whsec_");
  let key: Uint8Array<ArrayBuffer>;
  try {
    key = fromBase64(secret.slice(PREFIX.length));
  } catch {
    throw new StandardWebhookError("bad_secret", "a webhook secret is whsec_ followed by base64");
  }
  if (!key.length) throw new StandardWebhookError("bad_secret", "empty webhook secret");
  return key;
}

/** One `v1,<base64>` signature of a message. */
export async function signature(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", secretKey(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/**
 * The three Standard Webhooks headers for a message signed with every given secret (current
 * first). `timestamp` is in unix seconds: receivers reject messages outside their tolerance
 * (five minutes in the reference libraries), which is what makes a captured request useless later.
 */
export async function signatureHeaders(
  secrets: string[],
  id: string,
  timestamp: number,
  body: string,
): Promise<Record<string, string>> {
  if (!secrets.length) throw new Error("no signing secret");
  const signatures = await Promise.all(secrets.map((s) => signature(s, id, timestamp, body)));
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signatures.join(" ") };
}

/** Why a message was refused, for logs and tests; the message says the same in words. */
export type StandardWebhookFailure =
  | "missing_header"
  | "bad_timestamp"
  | "too_old"
  | "too_new"
  | "no_signature"
  | "no_match"
  | "bad_secret";

/** A message that does not verify (or a receiver secret that is not a `whsec_…` secret). */
export class StandardWebhookError extends Error {
  override name = "StandardWebhookError";

  constructor(
    readonly reason: StandardWebhookFailure,
    message: string,
  ) {
    super(message);
  }
}

function requiredHeader(headers: Headers, name: string): string {
  const value = headers.get(name);
  if (!value) throw new StandardWebhookError("missing_header", `missing ${name} header`);
  return value;
}

/**
 * Verifies a Standard Webhooks message against the receiver's secrets (current first, the previous
 * one too during a rotation) at `nowMs`. Throws {@link StandardWebhookError} when a header is
 * missing, the timestamp is not an integer or is more than `toleranceS` seconds from now (either
 * way: a future timestamp would outlive the window), or no `v1` signature matches any secret.
 * Signatures of other versions are ignored, as the spec asks. Returns the message id (for
 * deduplicating redeliveries) and its timestamp in unix seconds.
 */
export async function verifyStandardWebhook(
  secrets: string[],
  headers: Headers,
  raw: string,
  nowMs: number,
  toleranceS = DEFAULT_TOLERANCE_S,
): Promise<{ id: string; timestamp: number }> {
  if (!secrets.length) throw new StandardWebhookError("bad_secret", "no verification secret");
  // A misconfigured secret is an error of ours, reported before anything about the message.
  for (const s of secrets) secretKey(s);
  const id = requiredHeader(headers, "webhook-id");
  const stamp = requiredHeader(headers, "webhook-timestamp");
  const header = requiredHeader(headers, "webhook-signature");
  if (!/^[0-9]{1,15}$/.test(stamp))
    throw new StandardWebhookError("bad_timestamp", "webhook-timestamp is not an integer");
  const timestamp = Number(stamp);
  const now = Math.floor(nowMs / 1000);
  if (now - timestamp > toleranceS) throw new StandardWebhookError("too_old", "webhook-timestamp is too old");
  if (timestamp - now > toleranceS) throw new StandardWebhookError("too_new", "webhook-timestamp is in the future");
  const offered = header
    .split(" ")
    .filter((entry) => entry.startsWith("v1,"))
    .slice(0, MAX_SIGNATURES);
  if (!offered.length) throw new StandardWebhookError("no_signature", "no v1 signature in webhook-signature");
  const expected = await Promise.all(secrets.map((s) => signature(s, id, timestamp, raw)));
  // Every pair is compared (no early exit) with a constant-time comparison, so timing says
  // neither which secret nor how much of a signature matched.
  const matches = await Promise.all(expected.flatMap((e) => offered.map((o) => constantTimeEqual(e, o))));
  if (!matches.includes(true)) throw new StandardWebhookError("no_match", "no webhook signature matches");
  return { id, timestamp };
}
