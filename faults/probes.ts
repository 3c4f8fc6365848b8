/**
 * A targeted probe of the full run: what a 503 to `POST /v1/auth/refresh` leaves behind. The
 * rotation happens in the user's hub before the Worker reads the user's roles from the tenant
 * database to sign the access token, so a database fault there answers 503 after the token was
 * already rotated. Within the 30 s grace a retry gets the same successor; the probe waits past
 * the grace (a phone that was backgrounded, a client honouring a long backoff) and retries
 * with the token it still holds. A client that did nothing wrong must not be signed out.
 */
import { field, sleep, type Api, type Answer } from "./http";
import type { FaultStack } from "./stack";
import type { User } from "./world";
import { check, fail, type Check } from "./verify/check";

/** The hub's grace window (REFRESH_GRACE_MS in src/durable/user-hub/sessions.ts) plus a margin. */
const PAST_GRACE_MS = 32_000;

export interface ProbeResult {
  first: Answer | null;
  retry: Answer | null;
}

/** Waits for the proxy's reset mode, refreshes into it until a 503 comes, then retries past the grace. */
export async function staleRefreshProbe(
  api: Api,
  stack: FaultStack,
  user: User,
  giveUpAt: number,
): Promise<ProbeResult> {
  let token = user.refreshToken;
  while (stack.proxy.current.kind !== "reset") {
    if (Date.now() > giveUpAt) return { first: null, retry: null };
    await sleep(100);
  }
  let first: Answer | null = null;
  for (let i = 0; i < 20 && stack.proxy.current.kind === "reset"; i++) {
    const a = await api.call("probe.refresh", "POST", "/v1/auth/refresh", {
      body: { refreshToken: token },
      freshAddress: true,
    });
    if (a.status === 503) {
      first = a;
      break;
    }
    const next = field(a.json, "refreshToken");
    if (a.status === 200 && next) token = next;
    await sleep(200);
  }
  if (!first) return { first: null, retry: null };
  await sleep(Math.max(0, first.endedAt + PAST_GRACE_MS - Date.now()));
  const retry = await api.call("probe.refresh-retry", "POST", "/v1/auth/refresh", {
    body: { refreshToken: token },
    freshAddress: true,
  });
  return { first, retry };
}

export function probeCheck(r: ProbeResult): Check {
  const c = check("refresh answered 503, retried after the 30 s grace: the session survives");
  if (!r.first) {
    c.notes.push("no refresh got a 503 during the reset: nothing to probe");
    return c;
  }
  c.attempted = 1;
  if (r.retry?.status === 200) {
    c.acknowledged = 1;
    c.found = 1;
    return c;
  }
  c.lost = 1;
  fail(
    c,
    `POST /v1/auth/refresh answered 503 (request id ${r.first.requestId}: ${r.first.body.slice(0, 120)}), yet the token had been rotated: ` +
      `the same token ${Math.round((r.retry ? r.retry.startedAt - r.first.endedAt : 0) / 1000)} s later got ${r.retry?.status ?? r.retry?.error} ${r.retry?.body.slice(0, 160) ?? ""} (request id ${r.retry?.requestId}), and the session is gone`,
  );
  return c;
}
