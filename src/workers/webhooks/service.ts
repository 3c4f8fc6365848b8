import type { TenantDb } from "../../db/client";
import {
  attemptsOf,
  claimForManualRetry,
  insertDeliveries,
  type WebhookAttemptRow,
  type WebhookDeliveryRow,
} from "../../db/tenant/webhook-deliveries";
import {
  findEndpoint,
  insertEndpointWithin,
  overlapEnd,
  rotateSecret,
  signingSecrets,
  updateEndpoint,
  type EndpointPatch,
  type WebhookEndpointRow,
} from "../../db/tenant/webhooks";
import { sealSecret } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { newWebhookSecret } from "../../lib/standard-webhooks";
import { iso, isoOrNull } from "../../lib/time";
import type { ResolvedTenant } from "../gateway/context";
import { attemptDelivery, LEASE_MS, payloadOf, secretContext } from "./deliver";
import { urlProblem } from "../../lib/outbound/url";
import { currentTraceparent } from "../../lib/tracing/spans";

/** Endpoints per tenant: enough for several integrations, few enough that fan-out stays cheap. */
export const MAX_ENDPOINTS = 20;

export function endpointView(e: WebhookEndpointRow, previousSecretExpiresAt: number | null) {
  return {
    id: e.id,
    url: e.url,
    description: e.description,
    eventTypes: JSON.parse(e.eventTypes) as string[],
    enabled: e.status === "enabled",
    disabledReason: e.disabledReason,
    disabledAt: isoOrNull(e.disabledAt),
    maxAttempts: e.maxAttempts,
    consecutiveFailures: e.consecutiveFailures,
    failingSince: isoOrNull(e.failingSince),
    lastSuccessAt: isoOrNull(e.lastSuccessAt),
    previousSecretExpiresAt: isoOrNull(previousSecretExpiresAt),
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

export function deliveryView(d: WebhookDeliveryRow) {
  return {
    id: d.id,
    endpointId: d.endpointId,
    eventId: d.eventId,
    eventType: d.eventType,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === "pending" ? isoOrNull(d.nextAttemptAt) : null,
    lastAttemptAt: isoOrNull(d.lastAttemptAt),
    lastResponseStatus: d.lastResponseStatus,
    lastError: d.lastError,
    lastDurationMs: d.lastDurationMs,
    createdAt: iso(d.createdAt),
  };
}

export function attemptView(a: WebhookAttemptRow) {
  return {
    n: a.n,
    trigger: a.trigger,
    attemptedAt: iso(a.attemptedAt),
    responseStatus: a.responseStatus,
    error: a.error,
    durationMs: a.durationMs,
  };
}

/** The endpoint as the API shows it (with the end of its secret overlap). 404 when it is not this tenant's. */
export async function loadEndpoint(db: TenantDb, id: string, now = Date.now()) {
  const e = await findEndpoint(db, id);
  if (!e) throw new AppError("webhook_endpoint_not_found", "No such webhook endpoint.");
  return { row: e, view: endpointView(e, overlapEnd(await signingSecrets(db, id, now))) };
}

function assertUrlAllowed(env: Env, url: string): void {
  const problem = urlProblem(url, env.ENVIRONMENT);
  if (problem) throw new AppError("webhook_url_not_allowed", problem);
}

async function sealedSecret(env: Env, tenant: ResolvedTenant, endpointId: string, now: number) {
  const secret = newWebhookSecret();
  const sealed = await sealSecret(env.DB_ENCRYPTION_KEY, secret, secretContext(tenant.id, endpointId));
  return { secret, row: { id: newId(now), endpointId, sealed, createdAt: now, expiresAt: null } };
}

export interface NewEndpoint {
  url: string;
  eventTypes: string[];
  description: string;
  maxAttempts: number;
}

/** Creates an endpoint with its first secret; the secret is answered once and stored sealed. */
export async function createEndpoint(env: Env, tenant: ResolvedTenant, db: TenantDb, input: NewEndpoint) {
  assertUrlAllowed(env, input.url);
  const now = Date.now();
  const id = newId(now);
  const row: WebhookEndpointRow = {
    id,
    url: input.url,
    description: input.description,
    eventTypes: JSON.stringify(input.eventTypes),
    status: "enabled",
    disabledReason: null,
    disabledAt: null,
    maxAttempts: input.maxAttempts,
    consecutiveFailures: 0,
    failingSince: null,
    lastSuccessAt: null,
    createdAt: now,
    updatedAt: now,
  };
  const { secret, row: secretRow } = await sealedSecret(env, tenant, id, now);
  // The cap is enforced by the insert itself, atomically (see insertEndpointWithin).
  if (!(await insertEndpointWithin(db, MAX_ENDPOINTS, row, secretRow))) {
    throw new AppError(
      "webhook_endpoint_limit",
      `A tenant has at most ${MAX_ENDPOINTS} webhook endpoints; delete one first.`,
    );
  }
  return { ...endpointView(row, null), secret };
}

export async function patchEndpoint(
  env: Env,
  db: TenantDb,
  id: string,
  patch: Omit<EndpointPatch, "eventTypes"> & { eventTypes?: string[] | undefined },
) {
  if (patch.url !== undefined) assertUrlAllowed(env, patch.url);
  const { eventTypes, ...rest } = patch;
  const row = await updateEndpoint(db, id, {
    ...rest,
    ...(eventTypes ? { eventTypes: JSON.stringify(eventTypes) } : {}),
  });
  if (!row) throw new AppError("webhook_endpoint_not_found", "No such webhook endpoint.");
  return (await loadEndpoint(db, id)).view;
}

/** A new current secret; the previous ones keep signing for `overlapSeconds` (0: not at all). */
export async function rotateEndpointSecret(
  env: Env,
  tenant: ResolvedTenant,
  db: TenantDb,
  id: string,
  overlapSeconds: number,
) {
  await loadEndpoint(db, id);
  const now = Date.now();
  const { secret, row } = await sealedSecret(env, tenant, id, now);
  await rotateSecret(db, row, now + overlapSeconds * 1000, now);
  return { secret, previousSecretExpiresAt: isoOrNull(overlapEnd(await signingSecrets(db, id, now))) };
}

/** A delivery with its attempt log and the body that was sent. */
export async function deliveryDetail(db: TenantDb, d: WebhookDeliveryRow) {
  return {
    ...deliveryView(d),
    payload: JSON.parse(d.payload) as unknown,
    attemptLog: (await attemptsOf(db, d.id)).map(attemptView),
  };
}

/**
 * Sends a delivery again now, under the same `webhook-id` (it is the same message, so a
 * receiver that already processed it can recognise it). Refused while the endpoint is disabled.
 */
export async function retryDelivery(
  env: Env,
  tenant: ResolvedTenant,
  db: TenantDb,
  endpointId: string,
  deliveryId: string,
) {
  const { row: endpoint } = await loadEndpoint(db, endpointId);
  if (endpoint.status !== "enabled")
    throw new AppError("webhook_endpoint_disabled", "The endpoint is disabled; enable it before retrying deliveries.");
  const now = Date.now();
  const claimed = await claimForManualRetry(db, endpointId, deliveryId, now, LEASE_MS);
  if (!claimed) throw new AppError("webhook_delivery_not_found", "No such delivery for this endpoint.");
  const { delivery } = await attemptDelivery(env, tenant, db, endpoint, claimed, "manual", now);
  return deliveryDetail(db, delivery ?? claimed);
}

/**
 * Sends a `webhook.test` message to one endpoint (subscribed or not, enabled or not: it is how
 * a tenant checks a fix before enabling the endpoint again), and answers the delivery.
 */
export async function sendTest(env: Env, tenant: ResolvedTenant, db: TenantDb, endpointId: string) {
  const { row: endpoint } = await loadEndpoint(db, endpointId);
  const now = Date.now();
  const eventId = newId(now);
  const payload = payloadOf({
    id: eventId,
    type: "webhook.test",
    subject: endpoint.id,
    time: iso(now),
    data: { endpointId: endpoint.id, message: "A test message from Canopy." },
  });
  const [created] = await insertDeliveries(
    db,
    [
      {
        id: newId(now),
        endpointId,
        eventId,
        eventType: "webhook.test",
        payload,
        traceparent: currentTraceparent(),
        nextAttemptAt: now + LEASE_MS,
      },
    ],
    now,
  );
  const { delivery } = await attemptDelivery(env, tenant, db, endpoint, created!, "test", now);
  return deliveryDetail(db, delivery ?? created!);
}
