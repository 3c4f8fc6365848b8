// The browser build: the default (Node) build imports node:os and mime-types, which workerd
// without nodejs_compat does not have; the browser build needs only js-base64.
import { createMimeMessage, Mailbox } from "mimetext/browser";
import { MailError, type MailMessage } from "./message";

/** An RFC 5322 message and its SMTP envelope (bare addresses, as `EmailMessage` wants them). */
export interface RawMail {
  envelopeFrom: string;
  envelopeTo: string;
  raw: string;
}

// Headers the builder writes itself; a caller's copy would contradict the message's structure.
const RESERVED = new Set([
  "from",
  "to",
  "cc",
  "bcc",
  "subject",
  "reply-to",
  "sender",
  "date",
  "message-id",
  "mime-version",
  "content-type",
  "content-transfer-encoding",
]);
// RFC 5322 field names: printable ASCII but the colon.
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const LINE_BREAK = /[\r\n]/;

/** Base64 of the UTF-8 bytes, in lines of 76 (RFC 2045), so any text and any line length survive transport. */
function base64Lines(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/.{76}(?=.)/g, "$&\r\n");
}

/** A mailbox as mimetext parses it (`address` or `Name <address>`); refuses what would inject headers. */
function mailbox(value: string, what: string): Mailbox {
  if (LINE_BREAK.test(value)) throw new MailError(`${what} holds a line break`, false);
  try {
    const box = new Mailbox(value);
    if (!box.addr.includes("@")) throw new Error("no @");
    return box;
  } catch {
    throw new MailError(`${what} is not an address: ${value.slice(0, 100)}`, false);
  }
}

/**
 * Builds the MIME message with mimetext: `multipart/alternative` when there is HTML, the text
 * part alone otherwise; the subject and display names are encoded words, bodies base64. A line
 * break in an address, the subject or a header, or a header that would rewrite the message's
 * structure, is refused (not retryable): it can only be a bug or an injection attempt.
 */
export function buildMime(message: MailMessage): RawMail {
  const from = mailbox(message.from, "from");
  const to = mailbox(message.to, "to");
  if (LINE_BREAK.test(message.subject)) throw new MailError("the subject holds a line break", false);
  const mime = createMimeMessage();
  // mimetext re-parses what it is given, and takes plain `{ addr, name }` objects, not Mailboxes.
  mime.setSender({ addr: from.addr, name: from.name });
  mime.setRecipient({ addr: to.addr, name: to.name });
  mime.setSubject(message.subject);
  if (message.replyTo !== undefined) mime.setHeader("Reply-To", mailbox(message.replyTo, "replyTo"));
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    if (!FIELD_NAME.test(name) || RESERVED.has(name.toLowerCase()) || LINE_BREAK.test(value))
      throw new MailError(`the header ${JSON.stringify(name.slice(0, 60))} cannot be set`, false);
    mime.setHeader(name, value);
  }
  mime.addMessage({ contentType: "text/plain", encoding: "base64", data: base64Lines(message.text) });
  if (message.html !== undefined)
    mime.addMessage({ contentType: "text/html", encoding: "base64", data: base64Lines(message.html) });
  return { envelopeFrom: from.addr, envelopeTo: to.addr, raw: mime.asRaw() };
}
