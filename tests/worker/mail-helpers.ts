import { expect, inject, vi } from "vitest";

/** A mail as the local catcher (tools/mail-catcher) stored it. */
export interface CaughtMail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string | null;
  html: string | null;
  receivedAt: string;
}

/** Every mail the catcher holds for an address, newest first. */
export async function inbox(to: string): Promise<CaughtMail[]> {
  const mail = inject("mail");
  const res = await fetch(`${mail.url}/messages?to=${encodeURIComponent(to)}`, {
    headers: { authorization: `Bearer ${mail.token}` },
  });
  expect(res.status).toBe(200);
  return (await res.json<{ items: CaughtMail[] }>()).items;
}

/**
 * Waits for the `n`-th mail to an address whose subject matches (the queue delivers it a moment
 * after the request), and answers it.
 */
export async function mailTo(to: string, subject: RegExp, n = 1): Promise<CaughtMail> {
  return vi.waitFor(
    async () => {
      const found = (await inbox(to)).filter((m) => subject.test(m.subject));
      expect(found.length, `mail to ${to} matching ${subject}`).toBeGreaterThanOrEqual(n);
      return found[found.length - n]!;
    },
    { timeout: 15_000, interval: 200 },
  );
}

/** The token of the link in a mail's text part (`…?token=…`). */
export function linkToken(m: CaughtMail): string {
  const t = /[?&]token=([A-Za-z0-9_-]+)/.exec(m.text ?? "")?.[1];
  expect(t, `a link with a token in: ${m.text}`).toBeTruthy();
  return t!;
}

/** The link itself. */
export function linkOf(m: CaughtMail): URL {
  const l = /https?:\/\/\S+token=[A-Za-z0-9_-]+/.exec(m.text ?? "")?.[0];
  expect(l, `a link in: ${m.text}`).toBeTruthy();
  return new URL(l!);
}

/** The 6-digit code in a mail's text part. */
export function codeOf(m: CaughtMail): string {
  const c = /\b(\d{6})\b/.exec(m.text ?? "")?.[1];
  expect(c, `a 6-digit code in: ${m.text}`).toBeTruthy();
  return c!;
}

/** A fresh address nobody else's test mails. */
export const freshAddress = (tag = "u") => `${tag}-${crypto.randomUUID().slice(0, 12)}@example.test`;
