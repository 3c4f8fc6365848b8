/**
 * The one port for sending mail. Every provider (Resend, Postmark, Cloudflare's `send_email`
 * binding, the local catcher that speaks the providers' HTTP shapes) sits behind
 * {@link MailTransport}, so the code that decides *what* to send (sign-up, password reset) never
 * knows *how* it leaves, and tests run the real transport against a real local receiver.
 */

/** One message to one recipient: transactional mail is personal, so there is no list of `to`. */
export interface MailMessage {
  /** The sender, `address` or `Display Name <address>`. */
  from: string;
  /** The recipient, `address` or `Display Name <address>`. */
  to: string;
  subject: string;
  /** The plain-text part, always present: links in it must work in any client (and in the dev log). */
  text: string;
  html?: string | undefined;
  replyTo?: string | undefined;
  /** Extra headers (`List-Unsubscribe`, …); names and values must not hold CR or LF. */
  headers?: Record<string, string> | undefined;
}

/** Sends mail through one provider. */
export interface MailTransport {
  /** The provider's name, for logs (`resend`, `postmark`, `cloudflare`, `unconfigured`). */
  readonly name: string;
  /**
   * Hands the message to the provider; resolves once the provider accepted it.
   * @param options.idempotencyKey the same for every attempt of one logical message, so a retry
   *   after a lost answer does not send it twice where the provider supports keys (Resend); the
   *   others deliver at least once (docs/mail.md).
   * @throws MailError whether or not retrying can help.
   */
  send(message: MailMessage, options: { idempotencyKey: string }): Promise<void>;
}

/**
 * Why a message was not sent. `retryable` tells the caller (a queue consumer) whether to retry
 * with backoff (network errors, timeouts, 429, 5xx) or to give up and dead-letter (other 4xx:
 * a bad key, an unverified sender, a malformed message), which retrying cannot fix.
 */
export class MailError extends Error {
  override readonly name = "MailError";
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Whether a provider's HTTP status is worth retrying: throttling and server errors are; other refusals are not. */
export const retryableStatus = (status: number): boolean => status === 429 || status >= 500;
