import { field, postJson, refusal, trimBase, type HttpTransportOptions } from "./http";
import { MailError, type MailMessage, type MailTransport } from "./message";

/** Postmark's API origin. */
export const POSTMARK_API_URL = "https://api.postmarkapp.com";

/** The body of Postmark's `POST /email`, as its official SDK sends it (tests/node/mail-providers.test.ts compares them). */
export interface PostmarkEmailBody {
  From: string;
  To: string;
  Subject: string;
  TextBody: string;
  HtmlBody?: string | undefined;
  ReplyTo?: string | undefined;
  Headers?: { Name: string; Value: string }[] | undefined;
  MessageStream: string;
}

/** Our message in Postmark's wire shape (headers become its `[{ Name, Value }]` list). */
export function postmarkBody(message: MailMessage, messageStream: string): PostmarkEmailBody {
  const headers = Object.entries(message.headers ?? {}).map(([Name, Value]) => ({ Name, Value }));
  return {
    From: message.from,
    To: message.to,
    Subject: message.subject,
    TextBody: message.text,
    HtmlBody: message.html,
    ReplyTo: message.replyTo,
    Headers: headers.length > 0 ? headers : undefined,
    MessageStream: messageStream,
  };
}

/** Postmark's options: the HTTP ones and the message stream. */
export interface PostmarkOptions extends HttpTransportOptions {
  /** The message stream (default `outbound`, every server's transactional stream). */
  messageStream?: string | undefined;
}

/**
 * Postmark (https://postmarkapp.com/developer/user-guide/send-email-with-api) over plain `fetch`.
 * Postmark takes no idempotency key: a retry after a lost answer can deliver a message twice
 * (at least once, docs/mail.md), which for a sign-in link is the lesser evil than none.
 */
export class PostmarkTransport implements MailTransport {
  readonly name = "postmark";
  readonly #url: string;

  constructor(
    private readonly serverToken: string,
    private readonly options: PostmarkOptions = {},
  ) {
    this.#url = `${trimBase(options.baseUrl ?? POSTMARK_API_URL)}/email`;
  }

  async send(message: MailMessage, _options: { idempotencyKey: string }): Promise<void> {
    const answer = await postJson(
      this.name,
      this.#url,
      { "x-postmark-server-token": this.serverToken },
      postmarkBody(message, this.options.messageStream ?? "outbound"),
      this.options,
    );
    // Postmark's answers carry `ErrorCode` (0 = accepted) and `Message`, errors included.
    const code = field(answer.body, "ErrorCode");
    const detail = `ErrorCode ${code ?? "?"}: ${field(answer.body, "Message") ?? String(answer.body)}`;
    if (answer.status >= 200 && answer.status < 300) {
      if (code === undefined || code === "0") return;
      throw new MailError(`${this.name}: ${detail}`, false);
    }
    throw refusal(this.name, answer.status, detail);
  }
}
