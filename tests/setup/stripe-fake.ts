/**
 * A fake of the part of Stripe's API that Canopy calls, for the Stripe provider's tests: a real
 * HTTP server outside the Worker, on 127.0.0.1, that the official `stripe` package reaches through
 * STRIPE_API_URL (vitest.config.ts). It behaves like Stripe where the provider depends on it:
 * - `POST /v1/payment_intents` (form-encoded, like Stripe's) answers a PaymentIntent with a
 *   deterministic id (`pi_<n>`) and client secret, `status: "requires_payment_method"`;
 * - the same `Idempotency-Key` replays the first PaymentIntent (another body with it: 400
 *   `idempotency_error`), so a retried create makes one payment;
 * - a request without `Authorization: Bearer sk_…` is 401, as Stripe answers a missing key;
 * - an amount under 50 minor units of USD is 400 `invalid_request_error` (Stripe's minimum), so
 *   the provider's refusal path is real; Stripe does not store refused requests under their key;
 * - an amount of exactly 13 is a 500 `api_error` (Stripe down), which the package retries.
 * Every request is recorded (method, path, headers, parsed body); tests read them with
 * `GET /__requests` and pick theirs by `metadata[tenantId]` (each test its own tenant).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface StripeRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The form body, decoded (`metadata[tenantId]` stays a flat key, as sent). */
  body: Record<string, string>;
  /** The status the fake answered, and what it answered (a PaymentIntent or `{ error }`). */
  status: number;
  response: unknown;
}

/** The amount (in any currency) that makes the fake answer 500, as Stripe does when it is down. */
export const STRIPE_FAKE_FAILING_AMOUNT = 13;

const MAX_BODY = 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json", "request-id": `req_fake_${Date.now()}` });
  res.end(JSON.stringify(body));
}

const stripeError = (type: string, message: string, extra: Record<string, unknown> = {}) => ({
  error: { type, message, ...extra },
});

export async function startStripeFake(): Promise<{ url: string; close: () => Promise<void> }> {
  const requests: StripeRequest[] = [];
  // Idempotency-Key → the body it was first sent with and the PaymentIntent answered.
  const replays = new Map<string, { body: string; intent: unknown }>();
  let n = 0;

  function createIntent(headers: Record<string, string>, raw: string, form: Record<string, string>) {
    if (!/^Bearer sk_(test|live)_\S+$/.test(headers.authorization ?? "")) {
      return { status: 401, body: stripeError("invalid_request_error", "Invalid API Key provided.") };
    }
    const key = headers["idempotency-key"];
    const seen = key ? replays.get(key) : undefined;
    if (seen) {
      if (seen.body !== raw) {
        return {
          status: 400,
          body: stripeError(
            "idempotency_error",
            "Keys for idempotent requests can only be used with the same parameters they were first used with.",
          ),
        };
      }
      return { status: 200, body: seen.intent };
    }
    const amount = Number(form.amount);
    const currency = form.currency ?? "";
    if (!Number.isSafeInteger(amount) || amount <= 0 || !/^[a-z]{3}$/.test(currency)) {
      return { status: 400, body: stripeError("invalid_request_error", "Invalid amount or currency.") };
    }
    if (amount === STRIPE_FAKE_FAILING_AMOUNT) {
      return { status: 500, body: stripeError("api_error", "An unknown error occurred (fake: amount 13).") };
    }
    if (currency === "usd" && amount < 50) {
      return {
        status: 400,
        body: stripeError("invalid_request_error", "Amount must be at least 50 cents", {
          code: "amount_too_small",
          param: "amount",
        }),
      };
    }
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(form)) {
      const m = /^metadata\[(.+)\]$/.exec(k);
      if (m?.[1]) metadata[m[1]] = v;
    }
    const id = `pi_${++n}`;
    const intent = {
      id,
      object: "payment_intent",
      amount,
      amount_received: 0,
      currency,
      status: "requires_payment_method",
      client_secret: `${id}_secret_${n.toString(36).padStart(8, "x")}`,
      automatic_payment_methods: form["automatic_payment_methods[enabled]"] === "true" ? { enabled: true } : null,
      metadata,
      livemode: false,
    };
    if (key) replays.set(key, { body: raw, intent });
    return { status: 200, body: intent };
  }

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://stripe-fake");
      const raw = await readBody(req);
      if (req.method === "GET" && url.pathname === "/__requests") return json(res, 200, requests);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      const body = Object.fromEntries(new URLSearchParams(raw));
      const answer =
        req.method === "POST" && url.pathname === "/v1/payment_intents"
          ? createIntent(headers, raw, body)
          : {
              status: 404,
              body: stripeError("invalid_request_error", `Unrecognized request URL (${req.method}: ${url.pathname}).`),
            };
      requests.push({
        method: req.method ?? "",
        path: url.pathname,
        headers,
        body,
        status: answer.status,
        response: answer.body,
      });
      json(res, answer.status, answer.body);
    })().catch((err: unknown) => json(res, 500, stripeError("api_error", String(err))));
  });

  // A failed listen rejects (it would otherwise leave the set-up waiting for ever).
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
