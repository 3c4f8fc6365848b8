/**
 * The sandbox payment provider: local and deterministic, for development, tests and the
 * benchmark. Starting a payment makes no request; the client completes or fails it through
 * Canopy's own sandbox routes, which confirm it with an event signed like a real provider's
 * webhook (Standard Webhooks, `webhook-id` = the event id), so the webhook path that Stripe's
 * events take is the one the sandbox exercises too.
 */
import { z } from "zod";
import { newId } from "../ids";
import { newWebhookSecret, signatureHeaders, StandardWebhookError, verifyStandardWebhook } from "../standard-webhooks";
import {
  WebhookRefused,
  type Checkout,
  type PaymentEvent,
  type PaymentProvider,
  type PaymentRequest,
  ignoredEvent,
} from "./provider";

/** A new sandbox signing secret (`whsec_…`, like any Standard Webhooks secret). */
export const newSandboxSecret = newWebhookSecret;

/** What a sandbox confirmation says about a payment. */
export interface SandboxOutcome {
  outcome: "succeeded" | "failed";
  topUpId: string;
  providerRef: string;
  tenantId: string;
  amount: bigint;
  currency: string;
  /** Why it failed (a provider-like code such as `card_declined`); only for `failed`. */
  reason?: string | undefined;
}

const EVENT_TYPES = { succeeded: "payment.succeeded", failed: "payment.failed" } as const;

// The envelope is checked before the type is looked at, so an unknown type is ignored only when the
// rest of the event is well formed. `data` of known types is then parsed strictly: the sandbox is our
// own sender, and anything it did not write is a forgery or a bug.
const Envelope = z.strictObject({
  id: z.string().min(1).max(100),
  type: z.string().min(1).max(100),
  created: z.int().nonnegative(),
  data: z.unknown(),
});

const PaymentData = z.strictObject({
  topUpId: z.string().min(1).max(100),
  providerRef: z.string().min(1).max(100),
  tenantId: z.string().min(1).max(100),
  amount: z
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .transform((n) => BigInt(n)),
  currency: z.string().regex(/^[A-Z]{3,8}$/),
  reason: z.string().min(1).max(200).optional(),
});

/** The sandbox provider of one tenant: its signing secret and the tenant's API base for checkout links. */
export class SandboxProvider implements PaymentProvider {
  readonly name = "sandbox";
  readonly #secret: string;
  readonly #baseUrl: string;

  /** `baseUrl` is the tenant's API origin followed by `/v1` (`https://acme.example.com/v1`). */
  constructor(options: { webhookSecret: string; baseUrl: string }) {
    this.#secret = options.webhookSecret;
    this.#baseUrl = options.baseUrl.replace(/\/+$/, "");
  }

  async createPayment(p: PaymentRequest): Promise<{ providerRef: string; checkout: Checkout }> {
    const links = `${this.#baseUrl}/payments/sandbox/${encodeURIComponent(p.topUpId)}`;
    return {
      providerRef: `sbx_${p.topUpId}`,
      checkout: { type: "sandbox", completeUrl: `${links}/complete`, failUrl: `${links}/fail` },
    };
  }

  /**
   * The webhook the sandbox "sends" when a payment completes or fails: the JSON body and its
   * Standard Webhooks headers, signed at `now` (ms). The body's `amount` is a JSON number (the
   * amounts Canopy accepts are far below 2^53).
   */
  async signedEvent(e: SandboxOutcome, now: number): Promise<{ body: string; headers: Record<string, string> }> {
    const id = `evt_${newId(now)}`;
    const created = Math.floor(now / 1000);
    const body = JSON.stringify({
      id,
      type: EVENT_TYPES[e.outcome],
      created,
      data: {
        topUpId: e.topUpId,
        providerRef: e.providerRef,
        tenantId: e.tenantId,
        amount: Number(e.amount),
        currency: e.currency,
        ...(e.outcome === "failed" && e.reason !== undefined ? { reason: e.reason } : {}),
      },
    });
    return { body, headers: await signatureHeaders([this.#secret], id, created, body) };
  }

  async verifyWebhook(raw: string, headers: Headers, now: number): Promise<PaymentEvent> {
    let webhookId: string;
    try {
      ({ id: webhookId } = await verifyStandardWebhook([this.#secret], headers, raw, now));
    } catch (err) {
      if (err instanceof StandardWebhookError) throw new WebhookRefused(err.message);
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      throw new WebhookRefused("webhook body is not JSON");
    }
    const envelope = Envelope.safeParse(json);
    if (!envelope.success) throw new WebhookRefused("webhook body is not a sandbox event");
    const { id, type, data } = envelope.data;
    // The signature covers both, but a redelivery is recognised by the event id: they must agree.
    if (id !== webhookId) throw new WebhookRefused("event id differs from webhook-id");
    const outcome =
      type === EVENT_TYPES.succeeded ? "succeeded" : type === EVENT_TYPES.failed ? "failed" : ("ignored" as const);
    if (outcome === "ignored") return ignoredEvent(id, type);
    const payment = PaymentData.safeParse(data);
    if (!payment.success) throw new WebhookRefused(`webhook body is not a valid ${type} event`);
    const d = payment.data;
    return {
      eventId: id,
      outcome,
      type,
      providerRef: d.providerRef,
      topUpId: d.topUpId,
      tenantId: d.tenantId,
      amount: d.amount,
      currency: d.currency,
      ...(outcome === "failed" ? { reason: d.reason ?? "payment_failed" } : {}),
    };
  }
}
