import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { inject } from "vitest";
import worker from "../../../src/index";
import { login, registerUser, tenantWithOwner, type Tokens } from "../auth-helpers";
import { itemInsertSql } from "../../../src/db/tenant/moderation-items";
import { call, createTenant, tenantDbOf } from "../helpers";
import { addressFor, KEY_PERMISSIONS, type KeyName } from "./identities";
import type { ActorName, Item, Pools } from "./pools";
import { fromBase64url } from "../../../src/lib/ids";

/** A signed-in user the suite acts as, with what it needs to sign in again. */
export interface Actor {
  userId: string;
  identifier: string;
  password: string;
  tokens: Tokens;
}

/** An API key the suite acts as. */
export interface ApiKey {
  id: string;
  /** `ck_<id>_<secret>`, sent as a bearer token. */
  token: string;
}

/** Everything the cases run against, created once per file by {@link buildWorld}. */
export interface World {
  tenant: { slug: string; maxBodyBytes: number };
  /**
   * The fuzz tenant's owner (every permission), a registered user the owner gave the seeded
   * `admin` role (rank 80), and a registered member (no permission).
   */
  actors: Record<ActorName, Actor>;
  /**
   * API keys the owner created: every permission, and `users:read` only. Neither is in the
   * `apiKeys` pool, so no case revokes them (see {@link renewKey}).
   */
  keys: Record<KeyName, ApiKey>;
  /** A second tenant with its own users and objects: the source of "another tenant's ids". */
  foreignTenant: { slug: string; owner: Actor };
  /** Real ids of the fuzz tenant, with their owners. */
  local: Pools;
  /** Real ids of the second tenant. */
  foreign: Pools;
  receiverUrl: string;
}

// A real 1×1 PNG, for avatars and attachments.
export const PNG = fromBase64url(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg",
);

let ip = 0;
/**
 * Signs the actor in again if its session is gone (a case signed it out, or the token expired in
 * a long run); a fresh client address each time.
 */
export async function revive(slug: string, actor: Actor): Promise<void> {
  if ((await call("/v1/auth/whoami", who(slug, actor))).status === 200) return;
  const res = await login(slug, actor.identifier, actor.password, { "cf-connecting-ip": addressFor(0xf0000 + ip++) });
  if (res.status !== 200)
    throw new Error(`fuzz fixture: could not sign ${actor.identifier} in again: ${res.status} ${await res.text()}`);
  actor.tokens = await res.json<Tokens>();
}

type Who = { tenant: string; headers: Record<string, string> };
const who = (slug: string, a: { tokens: Tokens }): Who => ({
  tenant: slug,
  headers: { authorization: `Bearer ${a.tokens.accessToken}` },
});

async function ok<T>(res: Promise<Response>, what: string): Promise<T> {
  const r = await res;
  if (r.status >= 300) throw new Error(`fuzz fixture: ${what} answered ${r.status}: ${await r.text()}`);
  return (r.status === 204 ? {} : await r.json()) as T;
}

/**
 * Creates the fixtures of one tenant; returns its pools. Objects are owned per `actorOf`. An
 * admin, when given, is a user like the owner and the member (never a victim) with a session
 * and a friend group of its own.
 */
async function populate(
  slug: string,
  owner: Actor,
  member: Actor,
  victims: Actor[],
  actorOf: (a: Actor) => ActorName | undefined,
  admin?: Actor,
): Promise<Pools> {
  const as = (a: Actor) => who(slug, a);
  const owned = (...as_: Actor[]): ActorName[] => as_.flatMap((a) => actorOf(a) ?? []);
  const [v1, v2, v3] = victims as [Actor, Actor, Actor];
  const identities = admin ? [owner, admin, member] : [owner, member];
  const pools: Required<Pools> = {
    users: identities.map((a) => ({ id: a.userId })).concat(victims.map((v) => ({ id: v.userId, victim: true }))),
    posts: [],
    comments: [],
    // The member's public post carries the tag "fuzz" (below).
    tags: [{ id: "fuzz" }],
    reports: [],
    moderationItems: [],
    conversations: [],
    messages: [],
    files: [],
    uploads: [],
    roles: [],
    apiKeys: [],
    webhooks: [],
    deliveries: [],
    friendRequests: [],
    friendGroups: [],
    notifications: [],
    sessions: [],
    deadLetters: [],
    tenants: [],
    products: [],
    orders: [],
    topUps: [],
    knowledge: [],
    chatSessions: [],
    exports: [],
    backups: [],
    restores: [],
    // Every web app has its page under this name (src/workers/web).
    appFiles: [{ id: "index.html" }],
  };
  for (const a of [...identities, ...victims]) pools.sessions.push({ id: a.tokens.sessionId, owners: owned(a) });

  // The graph: owner and member are friends; pending requests in and out of the member's hub and
  // between two victims; the member follows the owner.
  const req = async (from: Actor, to: Actor) =>
    (
      await ok<{ id: string }>(
        call("/v1/friends/requests", { method: "POST", ...as(from), json: { toUserId: to.userId } }),
        "friend request",
      )
    ).id;
  await ok(
    call(`/v1/friends/requests/${await req(owner, member)}/accept`, { method: "POST", ...as(member) }),
    "accept",
  );
  for (const [from, to] of [
    [v2, member],
    [member, v3],
    [v2, v3],
  ] as const)
    pools.friendRequests.push({ id: await req(from, to), owners: owned(from, to) });
  await ok(call(`/v1/users/${owner.userId}/follow`, { method: "PUT", ...as(member) }), "follow");
  for (const a of [...identities, v1]) {
    const g = await ok<{ id: string }>(
      call("/v1/friends/groups", { method: "POST", ...as(a), json: { name: "fuzz group" } }),
      "friend group",
    );
    pools.friendGroups.push({ id: g.id, owners: owned(a) });
  }

  // Files: attachments are their owner's alone, avatars are readable tenant-wide; one attachment
  // is shared in a conversation, so the other member may read it too.
  const upload = async (a: Actor, purpose: string) => {
    const form = new FormData();
    form.set("file", new Blob([PNG], { type: "image/png" }), "fuzz.png");
    form.set("purpose", purpose);
    const f = await ok<{ id: string; url: string }>(
      call("/v1/files", { method: "POST", ...as(a), body: form }),
      "upload",
    );
    const q = new URL(f.url).searchParams;
    return { id: f.id, signed: { exp: q.get("exp") ?? "", sig: q.get("sig") ?? "" } };
  };
  const shared = await upload(owner, "attachment");
  pools.files.push({ ...shared, owners: owned(owner, member) });
  pools.files.push({ ...(await upload(member, "attachment")), owners: owned(member) });
  pools.files.push({ ...(await upload(member, "avatar")), owners: owned(member), readableByAll: true });
  pools.files.push({ ...(await upload(v1, "attachment")), owners: [] });
  for (const a of [member, v1]) {
    const u = await ok<{ uploadId: string }>(
      call("/v1/files/uploads", {
        method: "POST",
        ...as(a),
        json: { purpose: "attachment", name: "fuzz.bin", size: 10 },
      }),
      "multipart upload",
    );
    pools.uploads.push({ id: u.uploadId, owners: owned(a) });
  }

  // Conversations the identities are in, and ones they are not in; a message in each.
  const conversation = async (a: Actor, json: unknown, members: Actor[]) => {
    const c = await ok<{ id: string }>(call("/v1/conversations", { method: "POST", ...as(a), json }), "conversation");
    pools.conversations.push({ id: c.id, owners: owned(...members) });
    const m = await ok<{ messageId: string }>(
      call(`/v1/conversations/${c.id}/messages`, {
        method: "POST",
        ...as(a),
        json: { clientId: crypto.randomUUID(), body: { text: "fuzz" } },
      }),
      "message",
    );
    pools.messages.push({ id: m.messageId, owners: owned(...members) });
    return c.id;
  };
  const direct = await conversation(owner, { type: "direct", userId: member.userId }, [owner, member]);
  await ok(
    call(`/v1/conversations/${direct}/messages`, {
      method: "POST",
      ...as(owner),
      json: { clientId: crypto.randomUUID(), kind: "file", body: { fileId: shared.id } },
    }),
    "file message",
  );
  await conversation(owner, { type: "group", name: "fuzz group", memberIds: [member.userId, v1.userId] }, [
    owner,
    member,
    v1,
  ]);
  await conversation(v1, { type: "group", name: "victims", memberIds: [v2.userId] }, [v1, v2]);

  // Posts: the member's public one (anyone may read it), the member's private one and a victim's;
  // owners and admins hold posts:moderate, so they may delete any of them.
  const post = async (a: Actor, json: unknown) =>
    (await ok<{ id: string }>(call("/v1/posts", { method: "POST", ...as(a), json }), "post")).id;
  const moderators = identities.filter((a) => a !== member);
  pools.posts.push(
    {
      id: await post(member, { body: "fuzz", tags: ["fuzz"] }),
      owners: owned(member, ...moderators),
      readableByAll: true,
    },
    { id: await post(member, { body: "mine", visibility: "private" }), owners: owned(member, ...moderators) },
    { id: await post(v1, { body: "theirs", visibility: "followers" }), owners: owned(...moderators) },
  );
  // Comments: the member's and a victim's on the member's public post (the member, as the post's
  // author, may delete both), and a victim's on the victim's private post (not pooled: a private
  // post stays unseen whatever follows or friendships other fuzz cases make).
  const comment = async (a: Actor, postId: string) =>
    (
      await ok<{ id: string }>(
        call(`/v1/posts/${postId}/comments`, { method: "POST", ...as(a), json: { body: "fuzz comment" } }),
        "comment",
      )
    ).id;
  const openPost = pools.posts.at(-3)!.id;
  const theirPost = await post(v1, { body: "their own", visibility: "private" });
  pools.comments.push(
    { id: await comment(member, openPost), owners: owned(member, ...moderators), readableByAll: true },
    { id: await comment(v1, openPost), owners: owned(member, ...moderators), readableByAll: true },
    { id: await comment(v1, theirPost), owners: owned(...moderators) },
  );
  // A report (a moderators' object: no owner) of a victim's post of its own, so resolving it by
  // removal touches nothing the other fixtures need.
  const reported = await post(v2, { body: "reported" });
  pools.reports.push({
    id: (
      await ok<{ id: string }>(
        call(`/v1/posts/${reported}/reports`, { method: "POST", ...as(member), json: { reason: "spam" } }),
        "report",
      )
    ).id,
  });

  // A review item (a moderators' object) of a victim's post held for review, filed as the hook
  // files one, so decisions meet a real item without touching the other fixtures.
  const held = await post(v3, { body: "held for review" });
  const { db } = await tenantDbOf(slug);
  await db.run(
    itemInsertSql({
      id: `mi_fuzz_${held}`,
      targetType: "post",
      targetId: held,
      authorId: v3.userId,
      excerpt: "held for review",
      autoDecision: "review",
      categories: [],
      scores: {},
      provider: "wordlist",
      degraded: false,
      status: "open",
      now: Date.now(),
    }),
  );
  pools.moderationItems.push({ id: `mi_fuzz_${held}` });

  // Commerce: a product (an admin object), the member's paid order and top-ups (one pending, one
  // credited through the sandbox), so refunds, reads and sandbox buttons meet real ids.
  const money = (a: Actor) => ({ ...as(a), headers: { ...as(a).headers, "idempotency-key": crypto.randomUUID() } });
  const product = await ok<{ id: string }>(
    call("/v1/admin/products", {
      method: "POST",
      ...as(owner),
      json: {
        sku: "fuzz-quota",
        name: "Fuzz quota",
        kind: "ai_quota",
        price: { amount: 100, currency: "CNY" },
        grants: { units: 5 },
      },
    }),
    "product",
  );
  pools.products.push({ id: product.id });
  const topUp = async () =>
    (
      await ok<{ id: string }>(
        call("/v1/wallet/top-ups", { method: "POST", ...money(member), json: { amount: 1000, currency: "CNY" } }),
        "top-up",
      )
    ).id;
  const paid = await topUp();
  await ok(call(`/v1/payments/sandbox/${paid}/complete`, { method: "POST", ...as(member) }), "sandbox complete");
  // The owner and the admin hold payments:configure: they may press the sandbox's buttons too.
  const payers = owned(member, ...identities.filter((a) => a !== member));
  pools.topUps.push({ id: paid, owners: payers }, { id: await topUp(), owners: payers });
  const bought = await ok<{ id: string }>(
    call("/v1/orders", { method: "POST", ...money(member), json: { items: [{ productId: product.id }] } }),
    "order",
  );
  pools.orders.push({ id: bought.id, owners: owned(member) });

  // Tenant-admin objects (no owner: any holder of the permission may act on them). The seeded
  // `member` and `admin` roles are left out: changing their permissions would make the member an
  // admin, or the admin a member.
  const role = await ok<{ id: string }>(
    call("/v1/admin/roles", { method: "POST", ...as(owner), json: { name: "fuzz-role", permissions: ["users:read"] } }),
    "role",
  );
  pools.roles.push({ id: role.id }, { id: "owner" }, { id: "moderator" });
  const key = await ok<{ id: string }>(
    call("/v1/admin/api-keys", { method: "POST", ...as(owner), json: { name: "fuzz", permissions: ["users:read"] } }),
    "api key",
  );
  pools.apiKeys.push({ id: key.id });
  const hook = await ok<{ id: string }>(
    call("/v1/admin/webhooks", {
      method: "POST",
      ...as(owner),
      json: { url: `${inject("webhookReceiver").url}/hooks/fuzz-${slug}`, eventTypes: ["webhook.test"] },
    }),
    "webhook",
  );
  pools.webhooks.push({ id: hook.id });
  const delivery = await ok<{ id: string }>(
    call(`/v1/admin/webhooks/${hook.id}/test`, { method: "POST", ...as(owner) }),
    "webhook test",
  );
  pools.deliveries.push({ id: delivery.id });
  await ok(call("/v1/admin/announcements", { method: "POST", ...as(owner), json: { title: "fuzz" } }), "announcement");

  // The knowledge base (an admin object) and chat sessions (their user's alone): the member's and
  // a victim's, each answered from the article by the local provider.
  const article = await ok<{ id: string }>(
    call("/v1/admin/ai/knowledge", {
      method: "POST",
      ...as(owner),
      json: { title: "Fuzz help", body: "Fuzz answers live here. Reset the fuzz by asking.", tags: ["fuzz"] },
    }),
    "knowledge article",
  );
  pools.knowledge.push({ id: article.id });
  for (const a of [member, v1]) {
    const res = await call("/v1/ai/chat", { method: "POST", ...as(a), json: { message: "How do I reset the fuzz?" } });
    const events = await res.text();
    const id = /"sessionId":"([^"]+)"/.exec(events)?.[1];
    if (res.status !== 200 || !id) throw new Error(`fuzz fixture: chat answered ${res.status}: ${events}`);
    pools.chatSessions.push({ id, owners: owned(a) });
  }
  // Data exports: the member's own and a victim's (their user's alone), and one the owner asked for.
  for (const a of [member, v1]) {
    const e = await ok<{ id: string }>(call("/v1/me/exports", { method: "POST", ...as(a) }), "data export");
    pools.exports.push({ id: e.id, owners: owned(a) });
  }
  const byAdmin = await ok<{ id: string }>(
    call(`/v1/admin/users/${v2.userId}/exports`, { method: "POST", ...as(owner) }),
    "admin's data export",
  );
  pools.exports.push({ id: byAdmin.id, owners: owned(owner) });
  return pools;
}

/** Waits (briefly) for the queue consumers to write notifications, and adds them to the pools. */
async function collectNotifications(
  slug: string,
  pools: Pools,
  actors: [Actor, ActorName | undefined][],
): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    let found = 0;
    for (const [a, name] of actors) {
      const page = await ok<{ items: { id: string }[] }>(call("/v1/notifications", who(slug, a)), "notifications");
      for (const n of page.items) {
        if (!(pools.notifications ??= []).some((i) => i.id === n.id))
          pools.notifications.push({ id: n.id, owners: name ? [name] : [] });
      }
      found += page.items.length;
    }
    if (found >= actors.length) return;
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Creates an API key as the owner (who holds `*`); the key acts with the owner's rank. */
async function createKey(slug: string, owner: Actor, name: KeyName): Promise<ApiKey> {
  const k = await ok<{ id: string; key: string }>(
    call("/v1/admin/api-keys", {
      method: "POST",
      ...who(slug, owner),
      json: { name: `fuzz ${name}`, permissions: KEY_PERMISSIONS[name] },
    }),
    "api key",
  );
  return { id: k.id, token: k.key };
}

/**
 * Replaces an identity key that stopped working (a case revoked it, or suspended its creator),
 * so later cases still test a live key. The owner signs in again first if it has to.
 */
export async function renewKey(world: World, name: KeyName): Promise<void> {
  const res = await call("/v1/auth/whoami", {
    tenant: world.tenant.slug,
    headers: { authorization: `Bearer ${world.keys[name].token}` },
  });
  if (res.status === 200) return;
  await revive(world.tenant.slug, world.actors.owner);
  world.keys[name] = await createKey(world.tenant.slug, world.actors.owner, name);
}

const actorFrom = async (user: Awaited<ReturnType<typeof registerUser>>): Promise<Actor> => ({
  userId: user.userId,
  identifier: user.email,
  password: user.password,
  tokens: user.tokens,
});

/**
 * A dead letter of the tenant, as the queue leaves one when an event's retries run out, so the
 * dead-letter routes get a real id (its replay publishes an event no consumer acts on).
 */
async function storeDeadLetter(tenantId: string): Promise<void> {
  const event = {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: "fuzz",
    type: "fuzz.exhausted",
    tenantid: tenantId,
    time: new Date().toISOString(),
    data: {},
  };
  const batch = createMessageBatch<unknown>("canopy-dlq", [
    { id: `fuzz-${event.id}`, timestamp: new Date(), attempts: 6, body: event },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  await getQueueResult(batch, ctx);
}

/**
 * The fuzz tenant (a very high `requestsPerMinute`, a lenient sign-in lockout so random
 * passwords never lock an account) with its owner, an admin, a member, three victims and two API
 * keys; a second tenant with the same objects; two tenants the platform admin routes may
 * suspend, delete and purge.
 */
export async function buildWorld(): Promise<World> {
  const config = {
    limits: { requestsPerMinute: 1_000_000 },
    auth: { maxFailures: 100, maxFailuresPerAddress: 10_000 },
  };
  const t = await tenantWithOwner(config);
  const slug = t.tenant.slug;
  const me = await ok<{ id: string }>(call("/v1/me", who(slug, t.owner)), "me");
  const owner: Actor = { userId: me.id, identifier: t.owner.email, password: t.owner.password, tokens: t.owner.tokens };
  const [member, admin, ...victims] = await Promise.all(
    [0, 1, 2, 3, 4].map(async () => actorFrom(await registerUser(slug))),
  );
  // The admin is made one by the owner, then signs in for real: its token is one a client of an
  // admin would hold.
  await ok(
    call(`/v1/admin/users/${admin!.userId}/roles`, {
      method: "PUT",
      ...who(slug, owner),
      json: { roles: ["member", "admin"] },
    }),
    "admin role",
  );
  admin!.tokens = await ok<Tokens>(
    login(slug, admin!.identifier, admin!.password, { "cf-connecting-ip": addressFor(0xf8000) }),
    "admin sign-in",
  );
  const actorOf = (a: Actor): ActorName | undefined =>
    a === owner ? "owner" : a === admin ? "admin" : a === member ? "member" : undefined;
  const local = await populate(slug, owner, member!, victims, actorOf, admin);
  const keys = { apiKey: await createKey(slug, owner, "apiKey"), narrowKey: await createKey(slug, owner, "narrowKey") };

  const o = await tenantWithOwner();
  const oMe = await ok<{ id: string }>(call("/v1/me", who(o.tenant.slug, o.owner)), "me");
  const foreignOwner: Actor = {
    userId: oMe.id,
    identifier: o.owner.email,
    password: o.owner.password,
    tokens: o.owner.tokens,
  };
  const [oMember, ...oVictims] = await Promise.all(
    [0, 1, 2, 3].map(async () => actorFrom(await registerUser(o.tenant.slug))),
  );
  // Nothing of the second tenant is an identity of the suite.
  const foreign = await populate(o.tenant.slug, foreignOwner, oMember!, oVictims, () => undefined);
  foreign.roles = foreign.roles?.filter((r) => !["owner", "admin", "moderator"].includes(r.id));

  await collectNotifications(slug, local, [
    [owner, "owner"],
    [member!, "member"],
  ]);
  await collectNotifications(o.tenant.slug, foreign, [[foreignOwner, undefined]]);

  for (let i = 0; i < 2; i++) (local.tenants ??= []).push({ id: (await createTenant()).slug });
  const backedUp = local.tenants![0]!.id;
  local.backups = [
    await ok<{ id: string }>(call(`/admin/v1/tenants/${backedUp}/backups`, { method: "POST", admin: true }), "backup"),
  ];
  await storeDeadLetter(t.tenant.id);
  const dead = await ok<{ items: { id: string }[] }>(call("/admin/v1/dead-letters", { admin: true }), "dead letters");
  local.deadLetters = dead.items.map((d): Item => ({ id: d.id }));
  local.restores = [await restoreOf(backedUp, local.backups[0]!.id)];

  return {
    tenant: { slug, maxBodyBytes: t.tenant.config.limits.maxBodyBytes },
    actors: { owner, admin: admin!, member: member! },
    keys,
    foreignTenant: { slug: o.tenant.slug, owner: foreignOwner },
    local,
    foreign,
    receiverUrl: inject("webhookReceiver").url,
  };
}

/**
 * Replaces the throwaway tenants that earlier cases deleted or purged, so every platform route
 * on `{slug}` still gets live ones to act on.
 */
export async function replenishTenants(world: World): Promise<void> {
  const tenants = world.local.tenants ?? [];
  for (const [i, t] of tenants.entries()) {
    const res = await call(`/admin/v1/tenants/${t.id}`, { admin: true });
    const status = res.status === 200 ? (await res.json<{ status: string }>()).status : "gone";
    if (status === "deleted" || status === "gone") tenants[i] = { id: (await createTenant()).slug };
  }
}

/** A restore of a finished backup (started once the backup is done; it runs on in the background). */
async function restoreOf(slug: string, backupId: string): Promise<Item> {
  for (let i = 0; i < 300; i++) {
    const b = await ok<{ status: string }>(
      call(`/admin/v1/tenants/${slug}/backups/${backupId}`, { admin: true }),
      "backup",
    );
    if (b.status !== "running") break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const into = `fuzz-restored-${crypto.randomUUID().slice(0, 8)}`;
  const r = await ok<{ id: string }>(
    call(`/admin/v1/tenants/${slug}/restore`, { method: "POST", admin: true, json: { backupId, intoSlug: into } }),
    "restore",
  );
  return { id: r.id };
}
