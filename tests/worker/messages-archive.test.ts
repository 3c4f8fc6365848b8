import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { platformDb } from "../../src/db/client";
import { findTenantBySlug } from "../../src/db/platform/tenants";
import { newId } from "../../src/lib/ids";
import { as, befriend, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

type U = Awaited<ReturnType<typeof registerUser>>;
interface Found {
  items: { messageId: string; body: { text?: string } | null; seq: number; kind: string; editedAt: string | null }[];
  nextCursor: string | null;
}

const search = async (slug: string, u: U, q: string) =>
  (await call(`/v1/messages/search?q=${encodeURIComponent(q)}`, as(slug, u))).json<Found>();
const eventually = <T>(fn: () => Promise<T>) => vi.waitFor(fn, { timeout: 20_000, interval: 500 });

async function conversationWithMessages(slug: string, a: U, b: U, texts: string[]) {
  await befriend(slug, a, b);
  const conv = await (
    await call("/v1/conversations", { method: "POST", ...as(slug, a), json: { type: "direct", userId: b.userId } })
  ).json<{ id: string }>();
  const ids: string[] = [];
  for (const [i, text] of texts.entries()) {
    const res = await call(`/v1/conversations/${conv.id}/messages`, {
      method: "POST",
      ...as(slug, a),
      json: { clientId: `c${i}`, body: { text } },
    });
    expect(res.status).toBe(201);
    ids.push((await res.json<{ messageId: string }>()).messageId);
  }
  return { conversationId: conv.id, ids };
}

describe("message archive", () => {
  it("copies messages to the tenant DB: members search them (full-text and short CJK), edits and recalls apply, admins export", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const [alice, bob, carol] = [
      await registerUser(tenant.slug),
      await registerUser(tenant.slug),
      await registerUser(tenant.slug),
    ];
    const { conversationId, ids } = await conversationWithMessages(tenant.slug, alice, bob, [
      "hello wonderful world",
      "你好",
      "secret plans",
      "typo here",
    ]);
    const edit = await call(`/v1/conversations/${conversationId}/messages/${ids[3]}`, {
      method: "PATCH",
      ...as(tenant.slug, alice),
      json: { body: { text: "fixed text" } },
    });
    expect(edit.status, await edit.clone().text()).toBe(200);
    expect(
      (
        await call(`/v1/conversations/${conversationId}/messages/${ids[2]}`, {
          method: "DELETE",
          ...as(tenant.slug, alice),
        })
      ).status,
    ).toBe(200);

    await eventually(async () =>
      expect((await search(tenant.slug, bob, "fixed")).items.map((m) => m.messageId)).toEqual([ids[3]]),
    );
    expect((await search(tenant.slug, bob, "wonderful")).items.map((m) => m.body?.text)).toEqual([
      "hello wonderful world",
    ]);
    expect((await search(tenant.slug, alice, "你好")).items.map((m) => m.messageId)).toEqual([ids[1]]);
    expect((await search(tenant.slug, bob, "typo")).items).toHaveLength(0);
    expect((await search(tenant.slug, bob, "secret")).items).toHaveLength(0);
    // Not a member: nothing, though the text exists.
    expect((await search(tenant.slug, carol, "wonderful")).items).toHaveLength(0);
    await expectProblem(await call("/v1/messages/search?q=", as(tenant.slug, bob)), 400, "validation_failed");
    expect((await call("/v1/messages/search?q=abc", { tenant: tenant.slug })).status).toBe(401);

    await expectProblem(
      await call(`/v1/admin/conversations/${conversationId}/export`, as(tenant.slug, alice)),
      403,
      "forbidden",
    );
    const res = await call(`/v1/admin/conversations/${conversationId}/export`, as(tenant.slug, owner));
    expect(res.headers.get("content-type")).toContain("application/x-ndjson");
    const lines = new TextDecoder()
      .decode(await res.arrayBuffer())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { seq: number; kind: string; recalledAt: string | null });
    expect(lines.map((l) => l.seq)).toEqual([...lines.keys()].map((i) => i + 1));
    expect(lines.map((l) => l.kind)).toEqual(["text", "text", "text", "text", "edit", "recall"]);
    expect(lines[2]!.recalledAt).not.toBeNull();
    // A conversation that does not exist, or exists in another tenant, is a 404, not an empty 200.
    await expectProblem(
      await call(`/v1/admin/conversations/g_${"0".repeat(26)}/export`, as(tenant.slug, owner)),
      404,
      "conversation_not_found",
    );
    const other = await tenantWithOwner();
    await expectProblem(
      await call(`/v1/admin/conversations/${conversationId}/export`, as(other.tenant.slug, other.owner)),
      404,
      "conversation_not_found",
    );
  });

  it("an edit archived before its original still wins; redelivery changes nothing", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const row = await findTenantBySlug(platformDb(env), tenant.slug);
    const conversationId = `d_${newId().toLowerCase()}`;
    const messageId = newId();
    const entry = (seq: number, id: string, kind: string, body: unknown) => ({
      specversion: "1.0",
      id: newId(),
      source: "/test",
      type: "message.created",
      tenantid: row!.id,
      time: new Date().toISOString(),
      data: {
        conversationId,
        seq,
        messageId: id,
        senderId: "u1",
        kind,
        body,
        sentAt: new Date(Date.now() + seq).toISOString(),
        recipients: [],
      },
    });
    const editEvent = entry(2, newId(), "edit", { messageId, body: { text: "after" } });
    const original = entry(1, messageId, "text", { text: "before" });
    for (const bodies of [[editEvent], [original], [original, editEvent]]) {
      const batch = createMessageBatch<unknown>(
        "canopy-statistics",
        bodies.map((body, i) => ({ id: `m${i}${crypto.randomUUID()}`, timestamp: new Date(), attempts: 1, body })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(bodies.length);
    }
    const res = await call(`/v1/admin/conversations/${conversationId}/export`, as(tenant.slug, owner));
    const lines = new TextDecoder()
      .decode(await res.arrayBuffer())
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { kind: string; body: unknown; editedAt: string | null });
    expect(lines).toHaveLength(2);
    expect(lines[0]!.body).toEqual({ text: "after" });
    expect(lines[0]!.editedAt).not.toBeNull();
  });
});
