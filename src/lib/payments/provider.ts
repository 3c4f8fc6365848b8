/**
 * A payment provider as the commerce service sees it (docs/commerce.md, Payments): it starts a
 * payment for a wallet top-up and turns a webhook's raw body into a verified event. Two
 * implementations sit behind it: `stripe` (the official package, PaymentIntents) and `sandbox`
 * (local and deterministic, signing its confirmations with Standard Webhooks like a real provider).
 */
export type ProviderName = "stripe" | "sandbox";

/** What the client needs to finish paying: a sandbox's complete/fail links, or Stripe's client secret. */
export type Checkout =
  | { type: "sandbox"; completeUrl: string; failUrl: string }
  | { type: "client_secret"; clientSecret: string; publishableKey: string | null };

/** A payment to start: amounts in minor units, currency upper-case ISO 4217. */
export interface PaymentRequest {
  tenantId: string;
  topUpId: string;
  userId: string;
  amount: bigint;
  currency: string;
  /** Sent to the provider so a retried create makes one payment (`topup:<tenantId>:<topUpId>`). */
  idempotencyKey: string;
}

/** A verified webhook, reduced to what the ledger needs. */
export interface PaymentEvent {
  /** The provider's event id (a redelivery carries the same one). */
  eventId: string;
  /** `ignored`: a verified event of a type Canopy does not act on (answered 200 so it is not retried). */
  outcome: "succeeded" | "failed" | "ignored";
  type: string;
  /** The provider's payment id (Stripe's PaymentIntent id, the sandbox's `sbx_…`). */
  providerRef: string | null;
  /** Canopy's top-up id, from the payment's metadata. */
  topUpId: string | null;
  /** The tenant the payment was made for, from the payment's metadata (null when absent). */
  tenantId: string | null;
  amount: bigint | null;
  currency: string | null;
  /** Why a payment failed (the provider's code), for `payment.failed`. */
  reason?: string | undefined;
}

/** A verified event of a type Canopy does not act on (answered 200 so the provider stops retrying). */
export const ignoredEvent = (eventId: string, type: string): PaymentEvent => ({
  eventId,
  outcome: "ignored",
  type,
  providerRef: null,
  topUpId: null,
  tenantId: null,
  amount: null,
  currency: null,
});

/** A webhook that is unsigned, mis-signed, stale or unreadable: refused, nothing happens. */
export class WebhookRefused extends Error {
  override name = "WebhookRefused";
}

/** A provider's refusal to start a payment (an amount under its minimum, a currency it does not take). */
export class PaymentRefused extends Error {
  override name = "PaymentRefused";
}

export interface PaymentProvider {
  readonly name: ProviderName;
  createPayment(p: PaymentRequest): Promise<{ providerRef: string; checkout: Checkout }>;
  /** Verifies the raw body against the signature headers at `now` (ms); throws WebhookRefused on any doubt. */
  verifyWebhook(raw: string, headers: Headers, now: number): Promise<PaymentEvent>;
}
