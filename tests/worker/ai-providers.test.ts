import { describe, expect, inject, it } from "vitest";
import { aiTenant, callsOf, moderate, quotaOf } from "./ai-helpers";
import { as, registerUser, type Tokens } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

/** The OpenAI-shaped server outside the system (tests/setup/openai-fake.ts). */
const fake = inject("openai").url;
const calls = async (key: string): Promise<number> =>
  (await (await fetch(`${fake}/__calls/${encodeURIComponent(key)}`)).json<{ count: number }>()).count;
const keyFor = (script: string) => `${crypto.randomUUID()}.${script}`;

async function useOpenAi(slug: string, owner: { tokens: Tokens }, apiKey: string, features = ["moderation"]) {
  const res = await call("/v1/admin/ai/providers/openai-compatible", {
    method: "PUT",
    ...as(slug, owner),
    json: { baseUrl: `${fake}/v1`, apiKey, model: "gpt-test", features },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<{ features: string[]; configured: { apiKey: boolean } }>();
}

interface ProviderView {
  provider: string;
  features: string[];
  breakers: Record<string, { state: string; lastError: string | null }>;
}
async function breakerOf(slug: string, owner: { tokens: Tokens }, provider: string, feature: string) {
  const res = await call("/v1/admin/ai/providers", as(slug, owner));
  expect(res.status).toBe(200);
  const { providers } = await res.json<{ providers: ProviderView[] }>();
  return providers.find((p) => p.provider === provider)!.breakers[feature]!;
}

/**
 * Providers behind breakers: a failing provider opens its breaker after 5 transient failures,
 * calls then degrade without reaching it, one probe after half-open closes it again; timeouts and
 * a bad key degrade instead of failing; an exhausted quota never reaches the provider.
 */
describe("AI providers", () => {
  it("errors, then the breaker opens (open → half-open → closed); degraded calls are not charged", async () => {
    const { slug, owner } = await aiTenant({
      lease: { enabled: false },
      breaker: { failures: 5, halfOpenAfterMs: 300 },
    });
    const key = keyFor("fail:5:500");
    await useOpenAi(slug, owner, key);
    const u = await registerUser(slug);
    const verdict = async () => {
      const res = await moderate(slug, u, "hello there");
      expect(res.status, await res.clone().text()).toBe(200);
      return res.json<{ decision: string; provider: string; degraded?: boolean }>();
    };
    // One retry per call: 2 + 2 + 1 failed requests, and the fifth opens the breaker.
    for (const expected of [2, 4, 5]) {
      expect(await verdict()).toEqual({
        decision: "review",
        categories: [],
        scores: {},
        provider: "wordlist",
        degraded: true,
      });
      expect(await calls(key)).toBe(expected);
    }
    expect((await breakerOf(slug, owner, "openai-compatible", "moderation")).state).toBe("open");
    // Open: degraded without a request.
    expect(await verdict()).toMatchObject({ degraded: true });
    expect(await calls(key)).toBe(5);
    await new Promise((r) => setTimeout(r, 350));
    expect((await breakerOf(slug, owner, "openai-compatible", "moderation")).state).toBe("halfOpen");
    // The probe succeeds (the fake's five failures are spent): closed again.
    expect(await verdict()).toEqual({
      decision: "allow",
      categories: [],
      scores: expect.any(Object),
      provider: "openai-compatible",
    });
    expect(await calls(key)).toBe(6);
    expect((await breakerOf(slug, owner, "openai-compatible", "moderation")).state).toBe("closed");
    expect(await quotaOf(slug, u)).toMatchObject({ used: 1 });
    const statuses = (await callsOf(slug, u.userId)).map((c) => c.status).sort();
    expect(statuses).toEqual(["degraded", "degraded", "degraded", "degraded", "ok"]);
  });

  it("the provider's scores decide; a timeout and a bad key degrade, neither is retried nor a 5xx", async () => {
    const { slug, owner } = await aiTenant({ lease: { enabled: false } });
    const u = await registerUser(slug);
    await useOpenAi(slug, owner, keyFor("scores:hate=0.95"));
    const hate = await (await moderate(slug, u, "some words")).json();
    expect(hate).toMatchObject({ decision: "block", categories: ["hate"], provider: "openai-compatible" });

    const slow = keyFor("slow:3000");
    await useOpenAi(slug, owner, slow);
    const started = Date.now();
    const res = await moderate(slug, u, "some words");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ decision: "review", degraded: true });
    expect(Date.now() - started).toBeLessThan(2_900);
    expect(await calls(slow)).toBe(1);

    const bad = keyFor("status:401");
    await useOpenAi(slug, owner, bad);
    for (let i = 0; i < 6; i++) expect(await (await moderate(slug, u, "x")).json()).toMatchObject({ degraded: true });
    // A bad key is the tenant's configuration: no retry, and the breaker stays closed.
    expect(await calls(bad)).toBe(6);
    const b = await breakerOf(slug, owner, "openai-compatible", "moderation");
    expect(b.state).toBe("closed");
    expect(b.lastError).toMatch(/401|key/i);
  });

  it("an exhausted quota never reaches the provider", async () => {
    const { slug, owner } = await aiTenant({ quota: { units: 1 }, lease: { enabled: false } });
    const key = keyFor("ok");
    await useOpenAi(slug, owner, key);
    const u = await registerUser(slug);
    expect((await moderate(slug, u)).status).toBe(200);
    const refused = await Promise.all([1, 2, 3, 4, 5].map(() => moderate(slug, u)));
    expect(refused.map((r) => r.status)).toEqual([429, 429, 429, 429, 429]);
    expect(await calls(key)).toBe(1);
  });

  it("workers-ai without an AI binding degrades; features move between providers; local serves the rest", async () => {
    const { slug, owner } = await aiTenant({ lease: { enabled: false } });
    const u = await registerUser(slug);
    await useOpenAi(slug, owner, keyFor("ok"), ["moderation", "chat"]);
    const w = await call("/v1/admin/ai/providers/workers-ai", {
      method: "PUT",
      ...as(slug, owner),
      json: { features: ["moderation"] },
    });
    expect(w.status, await w.clone().text()).toBe(200);
    const list = await (await call("/v1/admin/ai/providers", as(slug, owner))).json<{ providers: ProviderView[] }>();
    expect(Object.fromEntries(list.providers.map((p) => [p.provider, p.features]))).toEqual({
      local: ["embeddings"],
      "openai-compatible": ["chat"],
      "workers-ai": ["moderation"],
    });
    expect(await (await moderate(slug, u, "hello")).json()).toMatchObject({ decision: "review", degraded: true });
    // Back to local: nothing claims moderation.
    await call("/v1/admin/ai/providers/workers-ai", { method: "PUT", ...as(slug, owner), json: { features: [] } });
    expect(await (await moderate(slug, u, "hello")).json()).toMatchObject({ decision: "allow", provider: "local" });
  });

  it("hostile configuration: metadata and link-local URLs, missing keys, members, and the key is never returned", async () => {
    const { slug, owner } = await aiTenant();
    const member = await registerUser(slug);
    const put = (who: { tokens: Tokens }, json: unknown, provider = "openai-compatible") =>
      call(`/v1/admin/ai/providers/${provider}`, { method: "PUT", ...as(slug, who), json });
    for (const baseUrl of [
      "http://169.254.169.254/v1",
      "http://[fe80::1]/v1",
      "http://metadata.google.internal/v1",
      "ftp://x/v1",
      "not a url",
    ]) {
      await expectProblem(await put(owner, { baseUrl, apiKey: "k", features: ["chat"] }), 400, "ai_provider_invalid");
    }
    await expectProblem(await put(owner, { baseUrl: `${fake}/v1`, features: ["chat"] }), 400, "ai_provider_invalid");
    await expectProblem(await put(owner, { apiKey: "k" }, "workers-ai"), 400, "ai_provider_invalid");
    await expectProblem(await put(owner, { features: ["chat", "chat"] }), 400, "validation_failed");
    await expectProblem(await put(owner, { features: ["images"] }), 400, "validation_failed");
    await expectProblem(await put(owner, { apiKey: "k\u0000" }), 400, "invalid_body");
    expect((await put(owner, {}, "local")).status).toBe(400);
    await expectProblem(await put(member, { apiKey: "k" }), 403, "forbidden");
    await expectProblem(await call("/v1/admin/ai/providers", as(slug, member)), 403, "forbidden");
    const secret = keyFor("ok");
    await useOpenAi(slug, owner, secret);
    const text = await (await call("/v1/admin/ai/providers", as(slug, owner))).text();
    expect(text).not.toContain(secret);
    expect(text).toContain('"apiKey":true');
  });
});
