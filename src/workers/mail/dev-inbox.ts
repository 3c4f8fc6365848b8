import { z } from "@hono/zod-openapi";
import { AppError } from "../../lib/errors";
import type { MailEnv } from "./transport";

/**
 * The environments with a local mail catcher behind MAIL_API_URL. Anything else, a missing or
 * misspelt value included, counts as production: the dev inbox does not exist there.
 */
const LOCAL_ENVIRONMENTS = new Set(["development", "test"]);

/** Whether this deployment has the dev inbox (`ENVIRONMENT` is development or test). */
export const hasDevInbox = (env: Pick<Env, "ENVIRONMENT">): boolean => LOCAL_ENVIRONMENTS.has(env.ENVIRONMENT);

/** A message in the local mail catcher (tools/mail-catcher), as its inbox API answers it. */
export const DevMailSchema = z
  .object({
    id: z.string().min(1).max(128),
    provider: z.enum(["resend", "postmark"]),
    from: z.string(),
    to: z.array(z.string()),
    replyTo: z.array(z.string()),
    subject: z.string(),
    text: z.string().nullable(),
    html: z.string().nullable(),
    headers: z.record(z.string(), z.string()),
    receivedAt: z.string(),
  })
  .openapi("DevMail");
export type DevMail = z.infer<typeof DevMailSchema>;

const InboxSchema = z.object({ items: z.array(DevMailSchema) });

// The catcher is local and answers at once; a hung one should not hold the request long.
const TIMEOUT_MS = 5_000;

const unavailable = (detail: string) =>
  new AppError("service_unavailable", detail, { headers: { "retry-after": "2" } });

/**
 * Reads the local mail catcher's inbox, newest first, through the same MAIL_API_URL and
 * MAIL_API_KEY the transport delivers with. Its answer is validated like any peer's; a catcher
 * that is not configured, down or answering something else is a 503 that says which.
 * @param query.before the id of the last message of the previous page
 */
export async function readDevInbox(
  env: MailEnv,
  query: { to?: string | undefined; before?: string | undefined; limit: number },
): Promise<DevMail[]> {
  const transport = env.MAIL_TRANSPORT?.trim();
  if (transport !== "resend" && transport !== "postmark")
    throw unavailable(
      `MAIL_TRANSPORT is "${transport ?? ""}": mail does not go to the local catcher (npm run dev sets "resend" and MAIL_API_URL).`,
    );
  const base = env.MAIL_API_URL?.trim().replace(/\/+$/, "");
  if (!base)
    throw unavailable("MAIL_API_URL is not set: there is no local mail catcher to read (npm run dev sets it).");
  const url = new URL(`${base}/messages`);
  url.searchParams.set("limit", String(query.limit));
  if (query.to) url.searchParams.set("to", query.to);
  if (query.before) url.searchParams.set("before", query.before);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { authorization: `Bearer ${env.MAIL_API_KEY ?? ""}` },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (err) {
    throw unavailable(`The mail catcher at ${base} did not answer (${err instanceof Error ? err.message : err}).`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw unavailable(`The mail catcher at ${base} answered HTTP ${res.status}.`);
  }
  const parsed = InboxSchema.safeParse(await res.json().catch(() => null));
  if (!parsed.success) throw unavailable(`${base} did not answer like the mail catcher (tools/mail-catcher).`);
  return parsed.data.items;
}
