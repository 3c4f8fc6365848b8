import { field, postJson, refusal, trimBase, type HttpTransportOptions } from "./http";
import type { MailMessage, MailTransport } from "./message";

/** Resend's API origin. */
export const RESEND_API_URL = "https://api.resend.com";

/** The body of Resend's `POST /emails`, as its official SDK sends it (tests/node/mail-providers.test.ts compares them). */
export interface ResendEmailBody {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html?: string | undefined;
  reply_to?: string | undefined;
  headers?: Record<string, string> | undefined;
}

/** Our message in Resend's wire shape; absent fields stay absent (JSON drops `undefined`). */
export function resendBody(message: MailMessage): ResendEmailBody {
  return {
    from: message.from,
    to: [message.to],
    subject: message.subject,
    text: message.text,
    html: message.html,
    reply_to: message.replyTo,
    headers: message.headers && Object.keys(message.headers).length > 0 ? message.headers : undefined,
  };
}

/**
 * Resend (https://resend.com/docs/api-reference/emails/send-email) over plain `fetch`, not the
 * SDK: one request shape needs no dependency, and `fetch` is what Workers have. Resend keeps an
 * `Idempotency-Key` for 24 hours and answers a repeat with the first email's id without sending
 * again, so retries of one message are safe.
 */
export class ResendTransport implements MailTransport {
  readonly name = "resend";
  readonly #url: string;

  constructor(
    private readonly apiKey: string,
    private readonly options: HttpTransportOptions = {},
  ) {
    this.#url = `${trimBase(options.baseUrl ?? RESEND_API_URL)}/emails`;
  }

  async send(message: MailMessage, options: { idempotencyKey: string }): Promise<void> {
    const answer = await postJson(
      this.name,
      this.#url,
      { authorization: `Bearer ${this.apiKey}`, "idempotency-key": options.idempotencyKey },
      resendBody(message),
      this.options,
    );
    if (answer.status >= 200 && answer.status < 300) return;
    // Resend's errors are `{ statusCode, name, message }`.
    const name = field(answer.body, "name");
    const detail = `${name ?? "error"}: ${field(answer.body, "message") ?? String(answer.body)}`;
    // 409 concurrent_idempotent_requests: the first request with this key is still running;
    // asking again shortly gets its answer. (409 invalid_idempotent_request, the same key with
    // another body, is a bug of ours and stays final.)
    throw refusal(this.name, answer.status, detail, name === "concurrent_idempotent_requests" ? true : undefined);
  }
}
