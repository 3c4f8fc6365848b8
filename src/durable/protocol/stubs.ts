import { inSpan, isRecording } from "../../lib/tracing/spans";
import { doName } from "../names";

/**
 * The one stub factory: every Durable Object is addressed by a name that carries the tenant id
 * (names.ts). Stub types come from the bindings (the generated Env names each class), so no
 * object's folder imports another's, and the Worker and the objects address them the same way.
 */
export type HubStub = ReturnType<Env["USER_HUB"]["get"]>;
export type ConversationStub = ReturnType<Env["CONVERSATION"]["get"]>;
export type GatewayStub = ReturnType<Env["REALTIME_GATEWAY"]["get"]>;

/**
 * A stub whose method calls are client spans of the current trace (docs/operations.md, "Traces"):
 * `UserHub.refresh`, `Conversation.send`, each called with the stub as `this`. Without a collector
 * the stub itself; a trace that is not sampled records nothing.
 */
function traced<T extends object>(stub: T, object: string): T {
  // Not recording: the stub itself (a method read through the proxy and called on it would run
  // with the proxy as `this`, which the stub's native `fetch` refuses).
  if (!isRecording()) return stub;
  return new Proxy(stub, {
    get(target, prop) {
      const member: unknown = Reflect.get(target, prop);
      // `then` passes as is: a stub is awaited (returned from an async function) as a value.
      if (typeof prop !== "string" || prop === "then" || typeof member !== "function") return member;
      return (...args: unknown[]) =>
        inSpan(
          `${object}.${prop}`,
          "client",
          { "rpc.system": "cloudflare_durable_objects", "rpc.service": object, "rpc.method": prop },
          async () => Reflect.apply(member as (...a: unknown[]) => unknown, target, args),
        );
    },
  });
}

/** Ids by name, per namespace and isolate, the oldest dropped past {@link MAX_IDS}. */
const ids = new WeakMap<object, Map<string, DurableObjectId>>();
const MAX_IDS = 10_000;

/**
 * The object named `name` in `ns`: `idFromName` hashes the name on every call, and the gateway
 * names a user's hub on every authenticated request, so ids are kept once made (an id is a value,
 * not an I/O object, so every request may use it).
 */
export function idOf(ns: Pick<DurableObjectNamespace, "idFromName">, name: string): DurableObjectId {
  let known = ids.get(ns);
  if (!known) ids.set(ns, (known = new Map()));
  let id = known.get(name);
  if (!id) {
    if (known.size >= MAX_IDS) known.delete(known.keys().next().value!);
    known.set(name, (id = ns.idFromName(name)));
  }
  return id;
}

/** A user's hub: sessions, presence, the connection log, friend graph. */
export function hubStub(env: Pick<Env, "USER_HUB">, tenantId: string, userId: string): HubStub {
  return traced(env.USER_HUB.get(idOf(env.USER_HUB, doName(tenantId, userId))), "UserHub");
}

/** One of a tenant's realtime gateways: the sockets of the users hashed to it (protocol/gateways.ts). */
export function gatewayStub(env: Pick<Env, "REALTIME_GATEWAY">, tenantId: string, index: number): GatewayStub {
  return traced(
    env.REALTIME_GATEWAY.get(idOf(env.REALTIME_GATEWAY, doName(tenantId, "gw", String(index)))),
    "RealtimeGateway",
  );
}

/** A conversation's object: its ordered log, members and fan-out. */
export function conversationStub(env: Pick<Env, "CONVERSATION">, tenantId: string, id: string): ConversationStub {
  return traced(env.CONVERSATION.get(idOf(env.CONVERSATION, doName(tenantId, id))), "Conversation");
}

export type QuotaStub = ReturnType<Env["QUOTA"]["get"]>;

/** An AI quota object: a user's (`userId`) or, without one, the tenant's pool. */
export function quotaStub(env: Pick<Env, "QUOTA">, tenantId: string, userId: string | null): QuotaStub {
  const name = userId === null ? doName(tenantId, "ai-pool") : doName(tenantId, "ai", userId);
  return traced(env.QUOTA.get(idOf(env.QUOTA, name)), "Quota");
}

export type MetricsHubStub = ReturnType<Env["METRICS_HUB"]["get"]>;

/** The number of metrics aggregator shards (METRICS_SHARDS, at least 1). */
export const metricsShards = (env: Pick<Env, "METRICS_SHARDS">) =>
  Math.max(1, Math.min(64, Number.parseInt(env.METRICS_SHARDS, 10) || 1));

/** A metrics aggregator shard (platform-wide: metrics carry tenants as data, not as objects). */
export function metricsHubStub(env: Pick<Env, "METRICS_HUB">, shard: number): MetricsHubStub {
  return env.METRICS_HUB.get(idOf(env.METRICS_HUB, `metrics:${shard}`));
}
