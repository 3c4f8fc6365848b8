import { MailError, type MailTransport } from "../../lib/mail/message";
import { PostmarkTransport } from "../../lib/mail/postmark";
import { ResendTransport } from "../../lib/mail/resend";

/** The sender when MAIL_FROM is unset: fine for the local catcher, refused by every real provider. */
export const DEFAULT_MAIL_FROM = "Canopy <no-reply@localhost>";

const HOW_TO =
  'Set MAIL_TRANSPORT to "resend" or "postmark" (with the secret MAIL_API_KEY) or "cloudflare" (with a send_email binding named EMAIL); see docs/mail.md.';

/**
 * The bindings mail reads. `EMAIL` is optional here although wrangler.toml declares it: a
 * deployment that sends through Resend or Postmark may drop the binding, and only
 * MAIL_TRANSPORT=cloudflare needs it. The secrets may be missing at runtime whatever the
 * generated type says (a secret that was never put), hence `| undefined`.
 */
export type MailEnv = Pick<Env, "MAIL_TRANSPORT" | "MAIL_FROM"> & {
  MAIL_API_URL?: string | undefined;
  MAIL_API_KEY?: string | undefined;
  EMAIL?: SendEmail | undefined;
};

/** A transport that cannot send, and says at send time what to configure, so a Worker without mail still starts. */
function unconfigured(why: string): MailTransport {
  return {
    name: "unconfigured",
    send: async () => {
      throw new MailError(`Mail is not configured: ${why} ${HOW_TO}`, false);
    },
  };
}

/**
 * The Cloudflare transport, loaded on its first send: its module imports `cloudflare:email`,
 * which only workerd has, while this module is also loaded in Node (tools/openapi-doc.ts renders
 * the OpenAPI document from the whole app there). Bundlers inline the dynamic import.
 */
function cloudflareTransport(binding: SendEmail): MailTransport {
  return {
    name: "cloudflare",
    send: async (message, options) => {
      const { CloudflareEmailTransport } = await import("../../lib/mail/cloudflare");
      return new CloudflareEmailTransport(binding).send(message, options);
    },
  };
}

/**
 * The transport MAIL_TRANSPORT names, with MAIL_API_URL (another origin: the local mail catcher
 * in development and tests) and MAIL_API_KEY for the HTTP providers, or the EMAIL binding for
 * Cloudflare. A missing or unknown setting does not throw here but in `send`, where the caller
 * (a queue consumer) records it as a final failure with a message that says how to fix it.
 */
export function mailTransport(env: MailEnv): MailTransport {
  const kind = (env.MAIL_TRANSPORT ?? "").trim();
  const baseUrl = env.MAIL_API_URL?.trim() || undefined;
  const key = env.MAIL_API_KEY?.trim() ?? "";
  switch (kind) {
    case "resend":
    case "postmark":
      if (!key) return unconfigured(`MAIL_TRANSPORT is "${kind}" but the secret MAIL_API_KEY is not set.`);
      return kind === "resend" ? new ResendTransport(key, { baseUrl }) : new PostmarkTransport(key, { baseUrl });
    case "cloudflare":
      if (!env.EMAIL) return unconfigured('MAIL_TRANSPORT is "cloudflare" but there is no send_email binding EMAIL.');
      return cloudflareTransport(env.EMAIL);
    default:
      return unconfigured(kind ? `MAIL_TRANSPORT "${kind}" is not a known transport.` : "MAIL_TRANSPORT is not set.");
  }
}

/** The sender of Canopy's mail: MAIL_FROM, or {@link DEFAULT_MAIL_FROM} when it is unset or empty. */
export function mailFrom(env: Pick<MailEnv, "MAIL_FROM">): string {
  return env.MAIL_FROM?.trim() || DEFAULT_MAIL_FROM;
}
