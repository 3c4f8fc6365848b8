import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { expect, inject } from "vitest";
import worker from "../../src/index";
import { newId } from "../../src/lib/ids";
import { as, type Tokens } from "./auth-helpers";
import { call } from "./helpers";

/** The recording receiver started by the global setup (tests/setup/webhook-receiver.ts). */
export const receiver = inject("webhookReceiver").url;

export interface Received {
  method: string;
  headers: Record<string, string>;
  body: string;
  status: number;
  at: number;
}

/** A receiver path no other test uses, and its full URL. */
export function hook(): { path: string; url: string } {
  const path = `/hooks/${crypto.randomUUID()}`;
  return { path, url: `${receiver}${path}` };
}

export async function received(path: string): Promise<Received[]> {
  return (await fetch(`${receiver}/__requests${path}`)).json<Received[]>();
}

/** Makes the receiver answer `status` to the next `n` requests on `path`. */
export async function failNext(path: string, n: number, status = 503): Promise<void> {
  const res = await fetch(`${receiver}/__control${path}`, {
    method: "POST",
    body: JSON.stringify({ failNext: n, status }),
  });
  expect(res.status).toBe(200);
}

export type Auth = { tokens: Tokens };

export interface EndpointJson {
  id: string;
  url: string;
  description: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  maxAttempts: number;
  consecutiveFailures: number;
  previousSecretExpiresAt: string | null;
  secret?: string;
}

export interface DeliveryJson {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  status: "pending" | "succeeded" | "failed";
  attempts: number;
  nextAttemptAt: string | null;
  lastResponseStatus: number | null;
  lastError: string | null;
  payload?: { type: string; timestamp: string; data: { id: string; type: string; data: unknown } };
  attemptLog?: {
    n: number;
    trigger: string;
    attemptedAt: string;
    responseStatus: number | null;
    error: string | null;
  }[];
}

export async function createEndpoint(
  slug: string,
  who: Auth,
  json: Record<string, unknown>,
): Promise<EndpointJson & { secret: string }> {
  const res = await call("/v1/admin/webhooks", { method: "POST", ...as(slug, who), json });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

export async function deliveries(slug: string, who: Auth, endpointId: string, q = ""): Promise<DeliveryJson[]> {
  const res = await call(`/v1/admin/webhooks/${endpointId}/deliveries${q}`, as(slug, who));
  expect(res.status, await res.clone().text()).toBe(200);
  return (await res.json<{ items: DeliveryJson[] }>()).items;
}

export async function delivery(slug: string, who: Auth, endpointId: string, id: string): Promise<DeliveryJson> {
  const res = await call(`/v1/admin/webhooks/${endpointId}/deliveries/${id}`, as(slug, who));
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json();
}

export const cloudEvent = (tenantId: string, type: string, data: Record<string, unknown>, id = newId()) => ({
  specversion: "1.0",
  id,
  source: `/tenants/${tenantId}`,
  type,
  subject: "s1",
  tenantid: tenantId,
  time: new Date().toISOString(),
  datacontenttype: "application/json",
  data,
});

/** Hands events to the Worker's queue handler as the notification queue would. */
export async function deliverEvents(bodies: unknown[]) {
  const batch = createMessageBatch<unknown>(
    "canopy-notification",
    bodies.map((body, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}
