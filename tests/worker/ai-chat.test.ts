import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { countTokens } from "../../src/lib/ai/tokens";
import { aiRows, aiTenant, callsOf, quotaOf, registerUser } from "./ai-helpers";
import {
  addArticle,
  ask,
  chat,
  chatThroughFake,
  fakeCalls,
  framesOf,
  type SessionDetail,
  sessionOf,
} from "./ai-chat-helpers";
import { as, bearer, type Tokens } from "./auth-helpers";
import { sweepChatAudit } from "../../src/db/tenant/ai-chat";
import { call, expectProblem, tenantDbOf } from "./helpers";

const ARTICLE = {
  title: "Resetting your password",
  body: "Open Settings and choose Security.\n\nPress Reset password and follow the link we email you. The reset link works for one hour.",
};
const NO_ANSWER = "Nothing in our articles covers that.";

/** Waits until the session's last answer is stored (the stream's end may race the client's). */
async function answerStored(slug: string, u: { tokens: Tokens }, id: string): Promise<SessionDetail["messages"][0]> {
  for (let i = 0; i < 50; i++) {
    const last = (await sessionOf(slug, u, id)).messages.at(-1);
    if (last?.role === "assistant") return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the answer was never stored");
}

/**
 * The customer-service chat over server-sent events, read by a real client's parser: grounded
 * answers, metering that matches what was streamed (client aborts included), provider failures
 * before and after the first delta, unanswerable questions and the handoff to support.
 */
describe("AI chat", () => {
  it("deltas concatenate to the stored answer; sources are retrieved articles; usage is what the quota used", async () => {
    const { slug, owner } = await aiTenant({ lease: { enabled: false } });
    const article = await addArticle(slug, owner, ARTICLE);
    await addArticle(slug, owner, { title: "Shipping", body: "We ship to every country within five days." });
    const u = await registerUser(slug);

    const first = await ask(slug, u, "How do I reset my password?");
    expect(first.frames.at(-1)?.event).toBe("done");
    expect(first.frames.filter((f) => f.event === "delta").length).toBeGreaterThan(3);
    expect(first.text).toContain("Reset password");
    const done = first.done!;
    expect(done).toMatchObject({ answered: true, sources: [{ id: article.id, title: ARTICLE.title }] });
    expect(done.degraded).toBeUndefined();
    expect(done.usage.units).toBe(done.usage.inputTokens + done.usage.outputTokens);
    expect(done.usage.outputTokens).toBe(countTokens(first.text));
    expect((await quotaOf(slug, u)).used).toBe(done.usage.units);

    const detail = await sessionOf(slug, u, done.sessionId);
    expect(detail.session).toMatchObject({
      title: "How do I reset my password?",
      status: "open",
      conversationId: null,
    });
    expect(detail.messages.map((m) => [m.role, m.status])).toEqual([
      ["user", "complete"],
      ["assistant", "complete"],
    ]);
    const answer = detail.messages[1]!;
    expect(answer.content).toBe(first.text);
    expect(answer.units).toBe(done.usage.units);
    expect(answer.sources).toEqual(done.sources);
    // The audit keeps the prompt and every retrieved id; what the answer cites is among them.
    const [audit] = await aiRows<{ prompt: string; retrieved_ids: string; provider: string }>(
      slug,
      sql`SELECT prompt, retrieved_ids, provider FROM ai_chat_audit WHERE message_id = ${answer.id}`,
    );
    expect(audit!.provider).toBe("local");
    expect(audit!.prompt).toContain(ARTICLE.title);
    expect(audit!.prompt).toContain("How do I reset my password?");
    const retrieved = JSON.parse(audit!.retrieved_ids) as string[];
    for (const s of done.sources) expect(retrieved).toContain(s.id);

    // A second turn continues the session and sends the first as context.
    const second = await ask(slug, u, "How long does the reset link work?", done.sessionId);
    expect(second.done?.sessionId).toBe(done.sessionId);
    expect(second.text).toContain("one hour");
    expect((await sessionOf(slug, u, done.sessionId)).messages).toHaveLength(4);
    expect((await quotaOf(slug, u)).used).toBe(done.usage.units + second.done!.usage.units);
  });

  it("a provider silent longer than the idle timeout after the first delta ends the answer with an error frame", async () => {
    const { slug, owner } = await aiTenant({ lease: { enabled: false }, chat: { idleTimeoutMs: 150 } });
    await addArticle(slug, owner, ARTICLE);
    await chatThroughFake(slug, owner, "trickle:600");
    const u = await registerUser(slug);
    const res = await chat(slug, u, { message: "Please explain how to reset my password in detail" });
    expect(res.status).toBe(200);
    const frames = await framesOf(res);
    expect(frames[0]).toEqual({ event: "delta", data: { text: "You" } });
    expect(frames.at(-1)).toMatchObject({ event: "error", data: { code: "ai_provider_unavailable", status: 503 } });
    const [session] = (await (await call("/v1/ai/chat/sessions", as(slug, u))).json<{ items: { id: string }[] }>())
      .items;
    expect((await answerStored(slug, u, session!.id)).status).toBe("partial");
  });

  it("a client that leaves after the first delta is charged input + produced; the answer is stored partial", async () => {
    const { slug, owner } = await aiTenant({ lease: { enabled: false } });
    await addArticle(slug, owner, ARTICLE);
    const key = await chatThroughFake(slug, owner, "trickle:200");
    const u = await registerUser(slug);
    const client = new AbortController();
    const res = await chat(slug, u, { message: "Please explain how to reset my password in detail" }, client.signal);
    expect(res.status).toBe(200);
    const frames = await framesOf(res, 1);
    client.abort();
    expect(frames).toEqual([{ event: "delta", data: { text: "You" } }]);

    const [session] = (await (await call("/v1/ai/chat/sessions", as(slug, u))).json<{ items: { id: string }[] }>())
      .items;
    const stored = await answerStored(slug, u, session!.id);
    expect(stored.status).toBe("partial");
    expect(stored.content.startsWith("You")).toBe(true);
    expect(stored.content.length).toBeLessThan("You asked: Please explain how to reset my password in detail".length);
    const [row] = await aiRows<{ units: number; input_tokens: number; output_tokens: number; status: string }>(
      slug,
      sql`SELECT units, input_tokens, output_tokens, status FROM ai_calls WHERE user_id = ${u.userId}`,
    );
    expect(row!.status).toBe("aborted");
    expect(row!.output_tokens).toBe(countTokens(stored.content));
    expect(row!.units).toBe(row!.input_tokens + row!.output_tokens);
    expect(stored.units).toBe(row!.units);
    expect((await quotaOf(slug, u)).used).toBe(row!.units);
    expect((await fakeCalls(key)).count).toBe(1);
  });

  it("a provider that drops the stream after three deltas ends it with event: error; the answer is partial", async () => {
    const { slug, owner } = await aiTenant({ lease: { enabled: false } });
    await addArticle(slug, owner, ARTICLE);
    await chatThroughFake(slug, owner, "drop-after:3");
    const u = await registerUser(slug);
    const turn = await ask(slug, u, "How do I reset my password?");
    expect(turn.frames.map((f) => f.event)).toEqual(["delta", "delta", "delta", "error"]);
    expect(turn.text).toBe("You asked: How");
    expect(turn.error).toMatchObject({ code: "ai_provider_unavailable", status: 503 });
    expect(turn.done).toBeUndefined();
    const [session] = (await (await call("/v1/ai/chat/sessions", as(slug, u))).json<{ items: { id: string }[] }>())
      .items;
    const stored = await answerStored(slug, u, session!.id);
    expect(stored).toMatchObject({ status: "partial", content: "You asked: How" });
    expect((await quotaOf(slug, u)).used).toBe(stored.units);
  });

  it("a provider down before the first delta answers locally, degraded and not charged; an open breaker skips it", async () => {
    const { slug, owner } = await aiTenant({
      lease: { enabled: false },
      breaker: { failures: 2, halfOpenAfterMs: 60_000 },
    });
    const article = await addArticle(slug, owner, ARTICLE);
    const key = await chatThroughFake(slug, owner, "status:503");
    const u = await registerUser(slug);
    for (const requests of [2, 2]) {
      const turn = await ask(slug, u, "How do I reset my password?");
      expect(turn.done).toMatchObject({ answered: true, degraded: true, usage: { units: 0 } });
      expect(turn.done?.sources.map((s) => s.id)).toEqual([article.id]);
      expect(turn.text).toContain("Reset password");
      // One request and its retry open the breaker; the second turn does not reach the provider.
      expect((await fakeCalls(key)).count).toBe(requests);
    }
    expect((await quotaOf(slug, u)).used).toBe(0);
    expect((await callsOf(slug, u.userId)).map((c) => c.status)).toEqual(["degraded", "degraded"]);
  });

  it("an unanswerable question says so without a provider call and offers a handoff to support", async () => {
    const { slug, owner } = await aiTenant({ lease: { enabled: false }, chat: { noAnswerText: NO_ANSWER } });
    await addArticle(slug, owner, ARTICLE);
    const key = await chatThroughFake(slug, owner, "ok");
    const u = await registerUser(slug);
    const turn = await ask(slug, u, "What is the airspeed of an unladen swallow?");
    expect(turn.text).toBe(NO_ANSWER);
    const id = turn.done!.sessionId;
    expect(turn.done).toEqual({
      sessionId: id,
      usage: { units: 1, inputTokens: 0, outputTokens: 0 },
      sources: [],
      answered: false,
      handoff: { path: `/v1/ai/chat/sessions/${id}/handoff` },
    });
    expect((await fakeCalls(key)).count).toBe(0);
    expect((await quotaOf(slug, u)).used).toBe(1);

    const handoff = () => call(`/v1/ai/chat/sessions/${id}/handoff`, { method: "POST", ...as(slug, u) });
    await expectProblem(await handoff(), 409, "handoff_unavailable");

    const agent = await registerUser(slug);
    const roles = await call(`/v1/admin/users/${agent.userId}/roles`, {
      method: "PUT",
      ...as(slug, owner),
      json: { roles: ["support", "member"] },
    });
    expect(roles.status, await roles.clone().text()).toBe(200);
    const first = await handoff();
    expect(first.status, await first.clone().text()).toBe(200);
    const { conversationId } = await first.json<{ sessionId: string; conversationId: string }>();
    expect(await (await handoff()).json()).toEqual({ sessionId: id, conversationId });
    expect(await sessionOf(slug, u, id)).toMatchObject({ session: { status: "handed_off", conversationId } });

    // The support member sees one conversation, with the user, opened by the transcript.
    const listed = await (await call("/v1/conversations", as(slug, agent))).json<{
      items: { id: string; type: string; members: { userId: string }[] }[];
    }>();
    expect(listed.items.map((c) => c.id)).toEqual([conversationId]);
    expect(listed.items[0]!.members.map((m) => m.userId).sort()).toEqual([u.userId, agent.userId].sort());
    const history = await (await call(`/v1/conversations/${conversationId}/messages`, as(slug, agent))).json<{
      items: { kind: string; body: { type: string; sessionId: string; transcript: { content: string }[] } }[];
    }>();
    expect(history.items).toHaveLength(1);
    expect(history.items[0]!.body).toMatchObject({ type: "canopy.handoff", sessionId: id });
    expect(history.items[0]!.body.transcript.map((t) => t.content)).toEqual([
      "What is the airspeed of an unladen swallow?",
      NO_ANSWER,
    ]);
  });

  it("sessions are their owner's: listed newest first and paged; another user's is 404 everywhere", async () => {
    const { slug, owner } = await aiTenant({ lease: { enabled: false } });
    await addArticle(slug, owner, ARTICLE);
    const u = await registerUser(slug);
    const other = await registerUser(slug);
    const a = (await ask(slug, u, "reset password")).done!.sessionId;
    const b = (await ask(slug, u, "password link")).done!.sessionId;
    const page1 = await (await call("/v1/ai/chat/sessions?limit=1", as(slug, u))).json<{
      items: { id: string }[];
      nextCursor: string;
    }>();
    expect(page1.items.map((x) => x.id)).toEqual([b]);
    const page2 = await (
      await call(`/v1/ai/chat/sessions?limit=1&cursor=${encodeURIComponent(page1.nextCursor)}`, as(slug, u))
    ).json<{ items: { id: string }[]; nextCursor: string | null }>();
    expect(page2).toEqual({ items: [expect.objectContaining({ id: a })], nextCursor: null });
    // Activity moves a session up.
    await ask(slug, u, "reset link", a);
    const again = await (await call("/v1/ai/chat/sessions", as(slug, u))).json<{ items: { id: string }[] }>();
    expect(again.items.map((x) => x.id)).toEqual([a, b]);

    expect((await (await call("/v1/ai/chat/sessions", as(slug, other))).json<{ items: unknown[] }>()).items).toEqual(
      [],
    );
    await expectProblem(await call(`/v1/ai/chat/sessions/${a}`, as(slug, other)), 404, "chat_session_not_found");
    await expectProblem(
      await call(`/v1/ai/chat/sessions/${a}/handoff`, { method: "POST", ...as(slug, other) }),
      404,
      "chat_session_not_found",
    );
    await expectProblem(await chat(slug, other, { sessionId: a, message: "hi" }), 404, "chat_session_not_found");
    expect((await quotaOf(slug, other)).used).toBe(0);
    await expectProblem(await call("/v1/ai/chat/sessions/cs_nothing", as(slug, u)), 404, "chat_session_not_found");
  });

  it("API keys are refused; an exhausted quota is a 429 problem before any stream; bad input is 400", async () => {
    const { slug, owner } = await aiTenant({ quota: { units: 0 }, lease: { enabled: false } });
    await addArticle(slug, owner, ARTICLE);
    const keyRes = await call("/v1/admin/api-keys", {
      method: "POST",
      ...as(slug, owner),
      json: { name: "bot", permissions: ["ai:read"] },
    });
    const key = (await keyRes.json<{ key: string }>()).key;
    const asKey = { tenant: slug, headers: bearer(key) };
    await expectProblem(
      await call("/v1/ai/chat", { method: "POST", ...asKey, json: { message: "hi" } }),
      403,
      "user_required",
    );
    await expectProblem(await call("/v1/ai/chat/sessions", asKey), 403, "user_required");

    const u = await registerUser(slug);
    const refused = await chat(slug, u, { message: "How do I reset my password?" });
    expect(refused.headers.get("content-type")).toContain("application/problem+json");
    await expectProblem(refused, 429, "quota_exhausted");
    expect((await (await call("/v1/ai/chat/sessions", as(slug, u))).json<{ items: unknown[] }>()).items).toEqual([]);

    await expectProblem(await chat(slug, u, { message: "" }), 400, "validation_failed");
    await expectProblem(await chat(slug, u, { message: "x".repeat(4_001) }), 400, "validation_failed");
    await expectProblem(await chat(slug, u, { message: "bell \u0007" }), 400, "validation_failed");
    expect((await quotaOf(slug, owner)).used).toBe(0);
  });

  it("audit rows are kept until they are older than the cut-off, then swept once", async () => {
    const { slug, owner } = await aiTenant({ lease: { enabled: false } });
    await addArticle(slug, owner, ARTICLE);
    const u = await registerUser(slug);
    await ask(slug, u, "reset password");
    await ask(slug, u, "What is the airspeed of an unladen swallow?");
    const { db } = await tenantDbOf(slug);
    expect(await sweepChatAudit(db, Date.now() - 86_400_000)).toBe(0);
    expect(await sweepChatAudit(db, Date.now() + 1)).toBe(2);
    expect(await sweepChatAudit(db, Date.now() + 1)).toBe(0);
    // The answers themselves stay.
    const [session] = (await (await call("/v1/ai/chat/sessions", as(slug, u))).json<{ items: { id: string }[] }>())
      .items;
    expect((await sessionOf(slug, u, session!.id)).messages).toHaveLength(2);
  });
});
