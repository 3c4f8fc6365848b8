import { sealContexts } from "../../lib/seal-contexts";
import type { TenantDb } from "../../db/client";
import { recordAttempt, type AttemptTrigger, type WebhookDeliveryRow } from "../../db/tenant/webhook-deliveries";
import { disableEndpoint, signingSecrets, type WebhookEndpointRow } from "../../db/tenant/webhooks";
import { openSecret } from "../../lib/crypto";
import type { CloudEvent } from "../../lib/events";
import { log } from "../../lib/log";
import { signatureHeaders } from "../../lib/standard-webhooks";
import { iso } from "../../lib/time";
import type { ResolvedTenant } from "../gateway/context";
import { publishTenantOutbox } from "../events/outbox-publisher";
import { urlProblem } from "../../lib/outbound/url";
import { activeTrace, inSpan, parseTraceparent, traceparent, withTrace } from "../../lib/tracing/spans";

/** How long an attempt owns its delivery: more than the request timeout, so nobody else sends it meanwhile. */
export const LEASE_MS = 60_000;
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** Wait before attempt n + 1, in seconds; the last step repeats for attempts past the list. */
export const BACKOFF_SECONDS = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 43_200, 86_400] as const;
/** An endpoint is disabled once it failed this many attempts in a row, over at least DISABLE_AFTER_MS. */
export const DISABLE_AFTER_FAILURES = 8;
export const DISABLE_AFTER_MS = 3_600_000;
const MAX_ERROR_CHARS = 500;

type Tenant = Pick<ResolvedTenant, "id" | "db">;

export const secretContext = sealContexts.webhook;

/**
 * The body of a message, per the Standard Webhooks recommended shape: `type`, `timestamp`
 * (when the event happened) and `data`, which carries the CloudEvent's identity and payload
 * so receivers can de-duplicate on `data.id` across endpoints.
 */
export function payloadOf(event: Pick<CloudEvent, "id" | "type" | "subject" | "time" | "data">): string {
  const time = event.time ?? new Date().toISOString();
  return JSON.stringify({
    type: event.type,
    timestamp: time,
    data: { id: event.id, type: event.type, subject: event.subject ?? null, time, data: event.data ?? null },
  });
}

/**
 * When to try again after `attemptsMade` attempts, or null when none are left. Exponential
 * steps with ±10 % jitter, so the deliveries of one outage do not all come back at the same second.
 */
export function nextAttemptAt(
  attemptsMade: number,
  maxAttempts: number,
  now: number,
  random = Math.random(),
): number | null {
  if (attemptsMade >= maxAttempts) return null;
  const step = BACKOFF_SECONDS[Math.min(Math.max(attemptsMade, 1), BACKOFF_SECONDS.length) - 1]!;
  return now + Math.round(step * 1000 * (0.9 + 0.2 * random));
}

interface SendResult {
  ok: boolean;
  responseStatus: number | null;
  error: string | null;
  durationMs: number;
}

/** The first bytes of a response body, for the attempt log; the rest is never read. */
async function bodySnippet(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const { value } = await reader.read().catch(() => ({ value: undefined }));
  await reader.cancel().catch(() => undefined);
  return value ? new TextDecoder().decode(value.slice(0, 200)).trim() : "";
}

/** One HTTP request: 2xx is success; redirects are not followed (a 3xx is a failure). */
async function send(url: string, headers: Record<string, string>, body: string): Promise<SendResult> {
  const started = Date.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "Canopy-Webhooks/1.0", ...headers },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
    });
    const ok = res.status >= 200 && res.status < 300;
    const snippet = await bodySnippet(res);
    const location = res.headers.get("location");
    const error = ok
      ? null
      : res.status >= 300 && res.status < 400
        ? `HTTP ${res.status}: redirects are not followed${location ? ` (to ${location})` : ""}`
        : `HTTP ${res.status}${snippet ? `: ${snippet}` : ""}`;
    return {
      ok,
      responseStatus: res.status,
      error: error?.slice(0, MAX_ERROR_CHARS) ?? null,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    const error = timedOut ? `timed out after ${ATTEMPT_TIMEOUT_MS / 1000} s` : `request failed: ${String(err)}`;
    return {
      ok: false,
      responseStatus: null,
      error: error.slice(0, MAX_ERROR_CHARS),
      durationMs: Date.now() - started,
    };
  }
}

/**
 * One attempt as a client span of the event's trace (the sweep's retries too: the delivery keeps
 * the event's traceparent), with that span's `traceparent` sent to the receiver.
 */
function tracedSend(url: string, headers: Record<string, string>, delivery: WebhookDeliveryRow): Promise<SendResult> {
  // Inside the consumer that made the delivery, its span is the parent; in the sweep, the event's.
  const parent = activeTrace() ? null : parseTraceparent(delivery.traceparent);
  const attempt = () =>
    inSpan("webhook POST", "client", { "http.request.method": "POST", "url.full": url }, async (span) => {
      const trace = span.context.sampled ? traceparent(span.context) : delivery.traceparent;
      const result = await send(url, trace ? { ...headers, traceparent: trace } : headers, delivery.payload);
      if (result.responseStatus !== null) span.set("http.response.status_code", result.responseStatus);
      if (!result.ok) span.end(result.error ?? "failed");
      return result;
    });
  return parent ? withTrace(parent, attempt) : attempt();
}

/**
 * Attempts one delivery the caller has claimed, records the outcome and, when the endpoint's
 * failure run is long enough, disables it with a `webhook.disabled` notice. Never throws for
 * the receiver's failures (they are recorded and retried); only database errors escape.
 *
 * `now` drives scheduling and which secrets sign (the sweep's clock, injectable in tests); the
 * `webhook-timestamp` header is always the real time of sending, since receivers compare it
 * with their own clock.
 */
export async function attemptDelivery(
  env: Env,
  tenant: Tenant,
  db: TenantDb,
  endpoint: WebhookEndpointRow,
  delivery: WebhookDeliveryRow,
  trigger: AttemptTrigger,
  now = Date.now(),
): Promise<{ delivery: WebhookDeliveryRow | undefined; disabled: boolean }> {
  const problem = urlProblem(endpoint.url, env.ENVIRONMENT);
  let result: SendResult;
  if (problem) {
    result = { ok: false, responseStatus: null, error: problem, durationMs: 0 };
  } else {
    const sealed = await signingSecrets(db, endpoint.id, now);
    const secrets = await Promise.all(
      sealed.map((s) => openSecret(env.DB_ENCRYPTION_KEY, s.sealed, secretContext(tenant.id, endpoint.id))),
    );
    const headers = await signatureHeaders(secrets, delivery.id, Math.floor(Date.now() / 1000), delivery.payload);
    result = await tracedSend(endpoint.url, headers, delivery);
  }
  const attempt = delivery.attempts + 1;
  const next = result.ok ? null : nextAttemptAt(attempt, endpoint.maxAttempts, now);
  const { delivery: updated, run } = await recordAttempt(db, {
    deliveryId: delivery.id,
    endpointId: endpoint.id,
    trigger,
    at: now,
    ...result,
    nextAttemptAt: next,
  });
  log(result.ok ? "info" : "warn", "webhook attempt", {
    tenantId: tenant.id,
    endpointId: endpoint.id,
    deliveryId: delivery.id,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    trigger,
    attempt,
    ok: result.ok,
    status: result.responseStatus,
    durationMs: result.durationMs,
    error: result.error,
    nextAttemptAt: next === null ? null : iso(next),
    gaveUp: !result.ok && next === null,
  });
  if (
    !result.ok &&
    run &&
    run.status === "enabled" &&
    run.consecutiveFailures >= DISABLE_AFTER_FAILURES &&
    run.failingSince !== null &&
    now - run.failingSince >= DISABLE_AFTER_MS
  ) {
    return {
      delivery: updated,
      disabled: await disableForFailures(
        env,
        tenant,
        db,
        endpoint,
        run.consecutiveFailures,
        run.failingSince,
        result.error,
        now,
      ),
    };
  }
  return { delivery: updated, disabled: false };
}

async function disableForFailures(
  env: Env,
  tenant: Tenant,
  db: TenantDb,
  endpoint: WebhookEndpointRow,
  failures: number,
  since: number,
  lastError: string | null,
  now: number,
): Promise<boolean> {
  const reason =
    `${failures} consecutive failed attempts since ${iso(since)}${lastError ? `; last: ${lastError}` : ""}`.slice(
      0,
      MAX_ERROR_CHARS,
    );
  const data = {
    endpointId: endpoint.id,
    url: endpoint.url,
    reason,
    consecutiveFailures: failures,
    failingSince: iso(since),
  };
  if (!(await disableEndpoint(db, endpoint.id, reason, { type: "webhook.disabled", subject: endpoint.id, data }, now)))
    return false;
  log("warn", "webhook endpoint disabled", { tenantId: tenant.id, endpointId: endpoint.id, reason });
  // The notice goes out now rather than at the next sweep (which catches it if this fails).
  await publishTenantOutbox(env, tenant, db, now).catch((err: unknown) =>
    log("warn", "outbox publish failed; the sweeper will retry", { tenantId: tenant.id, error: String(err) }),
  );
  return true;
}
