import { doName } from "../names";

/**
 * The one stub factory: every Durable Object is addressed by a name that carries the tenant id
 * (names.ts). Stub types come from the bindings (the generated Env names each class), so no
 * object's folder imports another's, and the Worker and the objects address them the same way.
 */
export type HubStub = ReturnType<Env["USER_HUB"]["get"]>;
export type ConversationStub = ReturnType<Env["CONVERSATION"]["get"]>;

/** A user's hub: sessions, sockets, presence, friend graph. */
export function hubStub(env: Pick<Env, "USER_HUB">, tenantId: string, userId: string): HubStub {
  return env.USER_HUB.get(env.USER_HUB.idFromName(doName(tenantId, userId)));
}

/** A conversation's object: its ordered log, members and fan-out. */
export function conversationStub(env: Pick<Env, "CONVERSATION">, tenantId: string, id: string): ConversationStub {
  return env.CONVERSATION.get(env.CONVERSATION.idFromName(doName(tenantId, id)));
}

export type QuotaStub = ReturnType<Env["QUOTA"]["get"]>;

/** An AI quota object: a user's (`userId`) or, without one, the tenant's pool. */
export function quotaStub(env: Pick<Env, "QUOTA">, tenantId: string, userId: string | null): QuotaStub {
  const name = userId === null ? doName(tenantId, "ai-pool") : doName(tenantId, "ai", userId);
  return env.QUOTA.get(env.QUOTA.idFromName(name));
}

export type MetricsHubStub = ReturnType<Env["METRICS_HUB"]["get"]>;

/** The number of metrics aggregator shards (METRICS_SHARDS, at least 1). */
export const metricsShards = (env: Pick<Env, "METRICS_SHARDS">) =>
  Math.max(1, Math.min(64, Number.parseInt(env.METRICS_SHARDS, 10) || 1));

/** A metrics aggregator shard (platform-wide: metrics carry tenants as data, not as objects). */
export function metricsHubStub(env: Pick<Env, "METRICS_HUB">, shard: number): MetricsHubStub {
  return env.METRICS_HUB.get(env.METRICS_HUB.idFromName(`metrics:${shard}`));
}
