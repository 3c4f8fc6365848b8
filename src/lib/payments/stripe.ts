/**
 * Stripe through its official package (PaymentIntents): `createPayment` makes a PaymentIntent the
 * client confirms with Stripe.js, and `verifyWebhook` checks `Stripe-Signature` with the package's
 * own `constructEventAsync` on Web Crypto. The package (about 10 MB of ESM, hundreds of resource
 * modules) is imported on first use, not with this file, so tenants on the sandbox provider never
 * evaluate it; in workerd `import("stripe")` resolves to its worker build (no Node built-ins).
 */
import type Stripe from "stripe";
import { z } from "zod";
import {
  PaymentRefused,
  WebhookRefused,
  type Checkout,
  type PaymentEvent,
  type PaymentProvider,
  type PaymentRequest,
  ignoredEvent,
} from "./provider";
import { breakerFor, guard } from "../breakers";

/** Stripe failing, not deciding: connection errors and its own 5xx (a refused card or request is an answer). */
const stripeDown = (err: unknown): boolean => {
  const e = err as { type?: unknown; statusCode?: unknown };
  return (
    e.type === "StripeConnectionError" ||
    e.type === "StripeAPIError" ||
    (typeof e.statusCode === "number" && e.statusCode >= 500)
  );
};

/** How old a `Stripe-Signature` timestamp may be, in seconds (the package's default). */
const TOLERANCE_S = 300;

/**
 * Currencies whose amounts Stripe does not read as ISO 4217 minor units, which is what Canopy
 * stores (https://docs.stripe.com/currencies#special-cases, #zero-decimal):
 * - ISK: zero-decimal in ISO 4217, two-decimal in Stripe's API (100 = 1 króna, multiples of 100 only).
 * - UGX: zero-decimal in ISO 4217, passed by Stripe with two decimals for backwards compatibility.
 * - HUF, TWD: two-decimal in both, but Stripe treats them as zero-decimal for payouts and asks
 *   for amounts divisible by 100 in places, so a top-up of fractional units can fail late.
 * - MGA: two-decimal in ISO 4217 (it is 1/5 in practice), zero-decimal in Stripe's API.
 * Converting would mean rounding someone's money; refusing them is simpler and honest.
 */
export const STRIPE_REFUSED_CURRENCIES: ReadonlySet<string> = new Set(["HUF", "ISK", "MGA", "TWD", "UGX"]);

/** Whether Stripe can take a payment in this (upper-case ISO 4217) currency as Canopy counts it. */
export function stripeTakes(currency: string): boolean {
  return !STRIPE_REFUSED_CURRENCIES.has(currency);
}

// The package, evaluated once per isolate on first use and shared by every tenant's provider.
let loaded: Promise<typeof Stripe> | undefined;
function loadStripe(): Promise<typeof Stripe> {
  loaded ??= import("stripe").then((m) => m.default);
  return loaded;
}

/** `https://host:port` → the client's `host`/`port`/`protocol` options (tests and dev point at a fake). */
function apiBase(apiUrl: string | undefined): { host?: string; port?: number; protocol?: "http" | "https" } {
  if (!apiUrl) return {};
  const url = new URL(apiUrl);
  const protocol = url.protocol === "http:" ? "http" : "https";
  return { host: url.hostname, port: url.port ? Number(url.port) : protocol === "http" ? 80 : 443, protocol };
}

// The fields of a PaymentIntent that Canopy reads from an event. The signature proves Stripe sent
// it; the schema keeps an unexpected shape (a newer API version, a test fixture) from becoming a
// wrong ledger entry.
const EventShape = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  data: z.object({ object: z.unknown() }),
});

const IntentShape = z.object({
  id: z.string().min(1),
  amount: z.int().nonnegative(),
  amount_received: z.int().nonnegative(),
  currency: z.string().regex(/^[a-zA-Z]{3,8}$/),
  metadata: z.record(z.string(), z.string()).nullish(),
  last_payment_error: z.object({ code: z.string().nullish() }).loose().nullish(),
});

/** A tenant's Stripe account: its secret key, its webhook endpoint secret, and the key Stripe.js uses. */
export class StripeProvider implements PaymentProvider {
  readonly name = "stripe";
  readonly #secretKey: string;
  readonly #webhookSecret: string;
  readonly #publishableKey: string | null;
  readonly #apiUrl: string | undefined;
  #client: Promise<Stripe> | undefined;

  /** `apiUrl` (an origin) replaces `https://api.stripe.com`; only tests and dev set it. */
  constructor(options: {
    secretKey: string;
    webhookSecret: string;
    publishableKey: string | null;
    apiUrl?: string | undefined;
  }) {
    this.#secretKey = options.secretKey;
    this.#webhookSecret = options.webhookSecret;
    this.#publishableKey = options.publishableKey;
    this.#apiUrl = options.apiUrl;
  }

  #stripe(): Promise<Stripe> {
    this.#client ??= loadStripe().then(
      (StripeClient) =>
        new StripeClient(this.#secretKey, {
          // Workers have fetch, not Node's http; the package retries network errors and 409/429/5xx
          // itself, with the idempotency key we pass, so a retry never makes a second payment.
          httpClient: StripeClient.createFetchHttpClient(),
          maxNetworkRetries: 2,
          timeout: 10_000,
          ...apiBase(this.#apiUrl),
        }),
    );
    return this.#client;
  }

  async createPayment(p: PaymentRequest): Promise<{ providerRef: string; checkout: Checkout }> {
    if (!stripeTakes(p.currency)) throw new PaymentRefused(`Stripe does not take ${p.currency} as Canopy counts it`);
    if (p.amount <= 0n || p.amount > BigInt(Number.MAX_SAFE_INTEGER)) throw new PaymentRefused("amount out of range");
    const [StripeClient, stripe] = await Promise.all([loadStripe(), this.#stripe()]);
    let intent: Stripe.PaymentIntent;
    try {
      // Under the payments breaker: Stripe's own retries ran first; repeated connection and API
      // failures then fail fast (503 dependency_unavailable) instead of piling up 10 s waits.
      intent = await guard(breakerFor("payments", `stripe:${this.#apiUrl ?? "api.stripe.com"}`, stripeDown), () =>
        stripe.paymentIntents.create(
          {
            amount: Number(p.amount),
            currency: p.currency.toLowerCase(),
            automatic_payment_methods: { enabled: true },
            metadata: { tenantId: p.tenantId, topUpId: p.topUpId, userId: p.userId },
          },
          { idempotencyKey: p.idempotencyKey },
        ),
      );
    } catch (err) {
      // Invalid requests are decided (an amount under Stripe's minimum, a currency the account
      // does not take); auth, rate-limit, connection and API errors are ours to report as failures.
      if (err instanceof StripeClient.errors.StripeInvalidRequestError) throw new PaymentRefused(err.message);
      throw err;
    }
    if (!intent.client_secret) throw new Error("Stripe returned a PaymentIntent without client_secret");
    return {
      providerRef: intent.id,
      checkout: { type: "client_secret", clientSecret: intent.client_secret, publishableKey: this.#publishableKey },
    };
  }

  async verifyWebhook(raw: string, headers: Headers, now: number): Promise<PaymentEvent> {
    const header = headers.get("stripe-signature");
    if (!header) throw new WebhookRefused("missing stripe-signature header");
    const StripeClient = await loadStripe();
    let event: unknown;
    try {
      // `receivedAt` is in milliseconds (the package divides it by 1000), so our clock goes in as is.
      // Stripe checks only the age of the timestamp, not whether it lies in the future.
      event = await StripeClient.webhooks.constructEventAsync(
        raw,
        header,
        this.#webhookSecret,
        TOLERANCE_S,
        StripeClient.createSubtleCryptoProvider(),
        now,
      );
    } catch (err) {
      // The package's messages can quote the secret's length and last characters when the header
      // carries a `secret=` field: never pass them on to an unauthenticated caller.
      throw new WebhookRefused(refusalReason(err));
    }
    const shape = EventShape.safeParse(event);
    if (!shape.success) throw new WebhookRefused("webhook body is not a Stripe event");
    const { id, type, data } = shape.data;
    const outcome =
      type === "payment_intent.succeeded"
        ? "succeeded"
        : type === "payment_intent.payment_failed"
          ? "failed"
          : ("ignored" as const);
    if (outcome === "ignored") return ignoredEvent(id, type);
    const intent = IntentShape.safeParse(data.object);
    if (!intent.success) throw new WebhookRefused(`webhook body is not a valid ${type} event`);
    const pi = intent.data;
    return {
      eventId: id,
      outcome,
      type,
      providerRef: pi.id,
      topUpId: pi.metadata?.topUpId ?? null,
      tenantId: pi.metadata?.tenantId ?? null,
      // What was received, for a success; what was asked, for a failure (nothing was received).
      amount: BigInt(outcome === "succeeded" ? pi.amount_received : pi.amount),
      currency: pi.currency.toUpperCase(),
      ...(outcome === "failed" ? { reason: pi.last_payment_error?.code ?? "payment_failed" } : {}),
    };
  }
}

/** A fixed reason for a refused Stripe signature (the package's own message is not for callers). */
function refusalReason(err: unknown): string {
  const message = err instanceof Error ? err.message : "";
  if (/timestamp outside the tolerance/i.test(message)) return "the signature's timestamp is too old";
  if (/unable to extract timestamp and signatures/i.test(message)) return "the Stripe-Signature header is unreadable";
  if (/no signatures found with expected scheme/i.test(message))
    return "no v1 signature in the Stripe-Signature header";
  return "the signature does not match the payload";
}
