import { describe, expect, it } from "vitest";
import { aiTenant, callsOf, moderate, quotaOf } from "./ai-helpers";
import { as, bearer, registerUser } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

interface Verdict {
  decision: string;
  categories: string[];
  scores: Record<string, number>;
  provider: string;
}

/** POST /v1/ai/moderate: the word list first, then the classifier (local here), one unit each. */
describe("POST /v1/ai/moderate", () => {
  it("decides by the tenant's thresholds and meters one unit per classified text", async () => {
    const { slug } = await aiTenant({
      lease: { enabled: false },
      moderation: { thresholds: { harassment: { review: 0.5, block: 0.9 }, self_harm: { review: 0.3, block: 0.5 } } },
    });
    const u = await registerUser(slug);
    const verdict = async (text: string) => {
      const res = await moderate(slug, u, text);
      expect(res.status, await res.clone().text()).toBe(200);
      return res.json<Verdict>();
    };
    expect(await verdict("What a lovely day for a walk")).toMatchObject({
      decision: "allow",
      categories: [],
      provider: "local",
    });
    const rude = await verdict("shut up, you idiot");
    expect(rude).toMatchObject({ decision: "block", categories: ["harassment"], provider: "local" });
    expect(rude.scores.harassment).toBe(0.95);
    expect(await verdict("you are such a loser")).toMatchObject({ decision: "review", categories: ["harassment"] });
    // A lower threshold for self-harm: one match (0.6) already blocks.
    expect(await verdict("I want to die")).toMatchObject({ decision: "block", categories: ["self_harm"] });
    expect(await quotaOf(slug, u)).toMatchObject({ used: 4 });
  });

  it("a word-list match decides without the classifier, and costs nothing", async () => {
    const { slug } = await aiTenant({}, { messages: { moderation: { mode: "block", words: ["forbiddenword"] } } });
    const u = await registerUser(slug);
    const res = await moderate(slug, u, "this has a ForbiddenWord inside");
    expect(await res.json()).toEqual({ decision: "block", categories: [], scores: {}, provider: "wordlist" });
    expect(await callsOf(slug, u.userId)).toEqual([]);
  });

  it("refuses API keys, malformed, oversized and control-character bodies, before metering", async () => {
    const { slug, owner } = await aiTenant();
    const u = await registerUser(slug);
    const keyRes = await call("/v1/admin/api-keys", {
      method: "POST",
      ...as(slug, owner),
      json: { name: "bot", permissions: ["ai:read"] },
    });
    const key = (await keyRes.json<{ key: string }>()).key;
    await expectProblem(
      await call("/v1/ai/moderate", { method: "POST", tenant: slug, headers: bearer(key), json: { text: "hi" } }),
      403,
      "user_required",
    );
    for (const json of [
      {},
      { text: "" },
      { text: "   " },
      { text: 42 },
      { text: "x".repeat(20_001) },
      { text: "nul\u0000" },
      { text: "hi", more: 1 },
    ]) {
      const res = await call("/v1/ai/moderate", { method: "POST", ...as(slug, u), json });
      expect(res.status, JSON.stringify(json).slice(0, 40)).toBe(400);
      // The gateway's JSON guard refuses NUL anywhere (invalid_body); the schema the rest.
      expect(["validation_failed", "invalid_body"]).toContain((await res.json<{ code: string }>()).code);
    }
    // A deeply nested body is refused by the gateway's guard.
    let deep: unknown = "x";
    for (let i = 0; i < 200; i++) deep = { text: deep };
    const res = await call("/v1/ai/moderate", { method: "POST", ...as(slug, u), json: deep });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(await callsOf(slug, u.userId)).toEqual([]);
    expect((await call("/v1/ai/moderate", { method: "POST", tenant: slug, json: { text: "hi" } })).status).toBe(401);
  });
});
