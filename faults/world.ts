/**
 * The tenant the faults hit, built through the public and admin APIs before any fault: the
 * `faults` tenant with an owner, users registered through `/v1/auth/register`, friend pairs with
 * their direct conversations (the message load), users with their own refresh chains, users
 * with TOTP enabled, buyers with funded wallets and a product to buy (the money and AI loads), and a
 * webhook endpoint subscribed to every event type, pointing at the harness's receiver.
 */
import { generate } from "otplib/functional";
import { postJson } from "../bench/servers";
import { registerUsers, PASSWORD } from "../bench/auth-users";
import { Api, field, type Answer } from "./http";

export const TENANT = "faults";
export const OWNER = { email: "owner@faults.test", password: "correct horse staple 47" };
/**
 * No 429s under load; tokens that outlive the run; room for the sessions TOTP sign-ins open; an
 * MFA failure budget the deliberate replays cannot exhaust (each replay is a failure); a daily
 * AI allowance the AI load spends in its first seconds, so its calls then draw on packs.
 */
export const AI_DAILY_UNITS = 5;
const TENANT_CONFIG = {
  limits: { requestsPerMinute: 1_000_000 },
  session: { accessTokenTtlSeconds: 86_400, maxSessions: 100 },
  auth: { maxMfaFailures: 100, lockoutSeconds: 10 },
  ai: { quota: { units: AI_DAILY_UNITS } },
};

export interface User {
  username: string;
  userId: string;
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

export interface Pair {
  a: User;
  b: User;
  conversationId: string;
}

export interface TotpUser extends User {
  secret: string;
  /** The time step of the code that enabled TOTP (claimed, so never accepted again). */
  enabledStep: number;
  enabledAt: number;
}

/** A user whose wallet was funded during set-up (sandbox top-ups, before any fault). */
export interface Buyer extends User {
  /** Minor units of CNY credited to the wallet before the load. */
  funded: number;
}

/** What the money load buys: an `ai_quota` product at 100 minor units of CNY. */
export const PRODUCT_PRICE = 100;
export const CURRENCY = "CNY";
/** Units of AI quota one order of the product adds (a pack). */
export const PACK_UNITS = 1;

export interface World {
  api: Api;
  ownerToken: string;
  pairs: Pair[];
  chains: User[];
  totp: TotpUser[];
  /** Users the friend-request load pairs up while faults happen. */
  graphPool: User[];
  /** Everyone registered during set-up but the probe user. */
  users: User[];
  /** A user of its own for the refresh probe (probes.ts), when the run has it. */
  probe: User | null;
  buyers: Buyer[];
  /** The product the buyers order (price PRODUCT_PRICE CURRENCY). */
  productId: string;
  webhookId: string;
  /** When the webhook endpoint was created: events after it must each be delivered. */
  subscribedAt: number;
}

export interface WorldSize {
  pairs: number;
  chains: number;
  totp: number;
  graphPool: number;
  /** Wallets funded for the money load; buyer i gets fundings[i % fundings.length] minor units. */
  buyers: number;
  fundings: number[];
  probe: boolean;
}

/** The `sub` claim of a freshly issued access token (the user id). */
function subjectOf(token: string): string {
  const payload: unknown = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"));
  const sub = typeof payload === "object" && payload !== null && "sub" in payload ? payload.sub : undefined;
  if (typeof sub !== "string") throw new Error("token without sub");
  return sub;
}

function must(a: Answer, expected: number): Answer {
  if (a.status !== expected)
    throw new Error(`set-up: ${a.method} ${a.path}: expected ${expected}, got ${a.status ?? a.error} ${a.body}`);
  return a;
}

/** The current TOTP code of a secret and its time step (RFC 6238: SHA-1, 6 digits, 30 s). */
export async function totpNow(secret: string, at = Date.now()): Promise<{ code: string; step: number }> {
  const epoch = Math.floor(at / 1000);
  return {
    code: await generate({ secret, epoch, period: 30, digits: 6, algorithm: "sha1" }),
    step: Math.floor(epoch / 30),
  };
}

async function enableTotp(api: Api, u: User): Promise<TotpUser> {
  const setup = must(await api.call("setup.totp", "POST", "/v1/auth/mfa/totp/setup", { token: u.accessToken }), 200);
  const secret = field(setup.json, "secret");
  if (!secret) throw new Error("totp setup without a secret");
  const { code, step } = await totpNow(secret);
  must(
    await api.call("setup.totp-enable", "POST", "/v1/auth/mfa/totp/enable", {
      token: u.accessToken,
      body: { password: PASSWORD, code },
    }),
    200,
  );
  return { ...u, secret, enabledStep: step, enabledAt: Date.now() };
}

/**
 * Builds the world; `receiver` is the webhook URL, and `onSecret` gets the endpoint's secret
 * before any event is delivered (the endpoint is subscribed first, so every event of the run,
 * set-up included, reaches it).
 */
export async function buildWorld(
  origin: string,
  adminToken: string,
  api: Api,
  size: WorldSize,
  receiver: string,
  onSecret: (s: string) => void,
): Promise<World> {
  await postJson(
    `${origin}/admin/v1/tenants`,
    adminToken,
    { slug: TENANT, name: "Faults", config: TENANT_CONFIG, owner: OWNER },
    201,
  );
  const owner = must(
    await api.call("setup.owner-login", "POST", "/v1/auth/login", {
      body: { identifier: OWNER.email, password: OWNER.password },
      freshAddress: true,
    }),
    200,
  );
  const ownerToken = field(owner.json, "accessToken");
  if (!ownerToken) throw new Error("owner login without a token");
  const hook = await subscribeWebhook(api, ownerToken, receiver);
  const subscribedAt = Date.now();
  onSecret(hook.secret);

  const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);
  const all = [
    ...names("pair", 2 * size.pairs),
    ...names("chain", size.chains),
    ...names("totp", size.totp),
    ...names("graph", size.graphPool),
    ...names("buyer", size.buyers),
    ...(size.probe ? ["probe1"] : []),
  ];
  const sessions = await registerUsers(origin, TENANT, all, 4);
  const users: User[] = sessions.map((s) => ({ ...s, userId: subjectOf(s.accessToken) }));
  const take = (prefix: string) => users.filter((u) => u.username.startsWith(prefix));

  const pairUsers = take("pair");
  const pairs: Pair[] = [];
  for (let i = 0; i < size.pairs; i++) {
    const a = pairUsers[2 * i]!;
    const b = pairUsers[2 * i + 1]!;
    const req = must(
      await api.call("setup.friend-request", "POST", "/v1/friends/requests", {
        token: a.accessToken,
        body: { toUserId: b.userId },
      }),
      201,
    );
    must(
      await api.call("setup.friend-accept", "POST", `/v1/friends/requests/${field(req.json, "id")}/accept`, {
        token: b.accessToken,
      }),
      204,
    );
    const conv = must(
      await api.call("setup.conversation", "POST", "/v1/conversations", {
        token: a.accessToken,
        body: { type: "direct", userId: b.userId },
      }),
      201,
    );
    const conversationId = field(conv.json, "id");
    if (!conversationId) throw new Error("conversation without an id");
    pairs.push({ a, b, conversationId });
  }
  const totp: TotpUser[] = [];
  for (const u of take("totp")) totp.push(await enableTotp(api, u));

  const productId = await createProduct(api, ownerToken);
  const buyers: Buyer[] = [];
  for (const [i, u] of take("buyer").entries())
    buyers.push(await fund(api, u, size.fundings[i % size.fundings.length] ?? 10_000));

  // The probe's session is meant to be lost if the product has the bug it probes: it stays out
  // of every other load and check.
  const probe = take("probe")[0] ?? null;
  const others = users.filter((u) => u !== probe);
  return {
    api,
    ownerToken,
    pairs,
    chains: take("chain"),
    totp,
    graphPool: take("graph"),
    users: others,
    probe,
    buyers,
    productId,
    webhookId: hook.id,
    subscribedAt,
  };
}

/**
 * The product of the money load. Top-ups below go to the sandbox: the fault stack runs with
 * ENVIRONMENT "development" (stack.ts), where a tenant without an active provider uses it.
 */
async function createProduct(api: Api, ownerToken: string): Promise<string> {
  const a = must(
    await api.call("setup.product", "POST", "/v1/admin/products", {
      token: ownerToken,
      body: {
        sku: "faults-quota",
        name: "Fault quota",
        kind: "ai_quota",
        price: { amount: PRODUCT_PRICE, currency: CURRENCY },
        grants: { units: PACK_UNITS },
      },
    }),
    201,
  );
  const id = field(a.json, "id");
  if (!id) throw new Error("product without an id");
  return id;
}

/** Funds a wallet with one sandbox top-up, completed by its owner, and checks the balance. */
async function fund(api: Api, u: User, amount: number): Promise<Buyer> {
  const t = must(
    await api.call("setup.top-up", "POST", "/v1/wallet/top-ups", {
      token: u.accessToken,
      headers: { "idempotency-key": `setup-top-up-${u.userId}` },
      body: { amount, currency: CURRENCY },
    }),
    201,
  );
  const id = field(t.json, "id");
  if (!id) throw new Error("top-up without an id");
  must(
    await api.call("setup.top-up-complete", "POST", `/v1/payments/sandbox/${id}/complete`, { token: u.accessToken }),
    200,
  );
  const w = must(await api.call("setup.wallet", "GET", "/v1/wallet", { token: u.accessToken }), 200);
  if (!JSON.stringify(w.json).includes(`"available":${amount}`))
    throw new Error(`set-up: ${u.username}'s wallet after a top-up of ${amount}: ${w.body}`);
  return { ...u, funded: amount };
}

/** Subscribes the receiver to every event type; answers the endpoint id and its secret. */
export async function subscribeWebhook(
  api: Api,
  ownerToken: string,
  url: string,
): Promise<{ id: string; secret: string }> {
  const a = must(
    await api.call("setup.webhook", "POST", "/v1/admin/webhooks", {
      token: ownerToken,
      body: { url, eventTypes: ["*"], description: "fault harness receiver" },
    }),
    201,
  );
  const id = field(a.json, "id");
  const secret = field(a.json, "secret");
  if (!id || !secret) throw new Error("webhook endpoint without id or secret");
  return { id, secret };
}

export { PASSWORD };
