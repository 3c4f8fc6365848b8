// The only import of cloudflare:email, and a dynamic one: everything else under src/lib/mail/
// also runs in Node (the provider tests), where this module does not exist, and the bundle also
// runs under plain workerd (benchmarks, fault runs), which has it only with the binding configured.
import { MailError, type MailMessage, type MailTransport } from "./message";
import { buildMime } from "./mime";

// What the binding's errors say when waiting can help (throttling, daily limits, an internal
// failure); anything else (an unverified sender or recipient, a malformed message) is final.
const TRANSIENT = /rate|limit|temporar|internal|timed? ?out|unavailable|network|overloaded|try again/i;

/**
 * Cloudflare Email Service through a `send_email` binding
 * (https://developers.cloudflare.com/email-service/api/send-emails/workers-api/): the RFC 5322
 * message is built here (mimetext, ./mime.ts) and handed over as an `EmailMessage`, the form
 * every `send_email` binding takes, Email Routing's verified-destination ones included. The
 * binding has no idempotency key and sets its own Message-ID, so delivery is at least once.
 */
export class CloudflareEmailTransport implements MailTransport {
  readonly name = "cloudflare";

  constructor(private readonly binding: SendEmail) {}

  async send(message: MailMessage, _options: { idempotencyKey: string }): Promise<void> {
    const mail = buildMime(message);
    const { EmailMessage } = await import("cloudflare:email");
    try {
      await this.binding.send(new EmailMessage(mail.envelopeFrom, mail.envelopeTo, mail.raw));
    } catch (err) {
      const flagged = (err as { retryable?: unknown } | null)?.retryable === true;
      const text = err instanceof Error ? err.message : String(err);
      throw new MailError(`cloudflare: ${text.slice(0, 300)}`, flagged || TRANSIENT.test(text));
    }
  }
}
