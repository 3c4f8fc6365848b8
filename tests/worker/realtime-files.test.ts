import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { as, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";
import { connect, group, type Frame } from "./socket-helpers";

type U = Awaited<ReturnType<typeof registerUser>>;
interface Msg {
  seq: number;
  messageId: string;
  kind: string;
  body: unknown;
}
interface FileJson {
  id: string;
  ownerId: string;
  name: string;
  contentType: string;
  size: number;
  purpose: string;
  url: string;
  urlExpiresAt: string;
}

const PDF = new TextEncoder().encode("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");

async function upload(t: string, u: U, name = "plan.pdf", purpose = "attachment"): Promise<FileJson> {
  const form = new FormData();
  form.set("file", new Blob([PDF], { type: "application/octet-stream" }), name);
  form.set("purpose", purpose);
  const res = await call("/v1/files", { method: "POST", ...as(t, u), body: form });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

const post = (t: string, u: U, id: string, body: unknown, clientId: string = crypto.randomUUID()) =>
  call(`/v1/conversations/${id}/messages`, { method: "POST", ...as(t, u), json: { clientId, kind: "file", body } });
const attachment = (t: string, u: U, id: string, fileId: string) =>
  call(`/v1/conversations/${id}/files/${fileId}`, as(t, u));
const recall = (t: string, u: U, id: string, mid: string) =>
  call(`/v1/conversations/${id}/messages/${mid}`, { method: "DELETE", ...as(t, u) });

/** A tenant with a group of alice (owner), bob and carol; dave is a user outside it. */
async function setup(config: Record<string, unknown> = {}) {
  const t = (await createTenant({ config })).slug;
  const [alice, bob, carol, dave] = [
    await registerUser(t),
    await registerUser(t),
    await registerUser(t),
    await registerUser(t),
  ];
  const id = await group(t, alice, [bob, carol]);
  return { t, alice, bob, carol, dave, id };
}

describe("file messages", () => {
  it("a file reference is checked and stored with the file's name, type and size; members get it on the socket", async () => {
    const { t, alice, bob, id } = await setup();
    const f = await upload(t, alice);
    const sb = await connect(t, { token: bob.tokens.accessToken });
    const sa = await connect(t, { token: alice.tokens.accessToken });
    sa.send({
      type: "send",
      clientId: "f1",
      conversationId: id,
      kind: "file",
      body: { fileId: f.id, caption: "the plan" },
    });
    const ack = await sa.frame("ack");
    const m = await sb.frame("message", (x) => x.seq === ack.seq);
    const stored = {
      fileId: f.id,
      caption: "the plan",
      name: "plan.pdf",
      contentType: "application/pdf",
      size: PDF.length,
    };
    expect(m).toMatchObject({ kind: "file", senderId: alice.userId, body: stored });
    // Over HTTP too (201, then 200 for the retried clientId); no caption is fine.
    const res = await post(t, alice, id, { fileId: f.id }, "f2");
    expect(res.status).toBe(201);
    expect((await res.json<Frame>()).body).toEqual({
      fileId: f.id,
      name: "plan.pdf",
      contentType: "application/pdf",
      size: PDF.length,
    });
    expect((await post(t, alice, id, { fileId: f.id }, "f2")).status).toBe(200);
    // File messages count as unread for the others.
    const conv = await (await call(`/v1/conversations/${id}`, as(t, bob))).json<{
      unreadCount: number;
      lastMessage: Frame;
    }>();
    expect(conv).toMatchObject({ unreadCount: 2, lastMessage: { kind: "file" } });
  });

  it("refuses malformed, unknown, foreign, unfinished and deleted files, over HTTP and the socket", async () => {
    const { t, alice, bob, id } = await setup();
    const mine = await upload(t, alice);
    const bobs = await upload(t, bob, "bob.pdf");
    await expectProblem(await post(t, alice, id, { fileId: "not-a-file-id" }), 400, "validation_failed");
    await expectProblem(
      await post(t, alice, id, { fileId: mine.id, caption: "x".repeat(1001) }),
      400,
      "validation_failed",
    );
    // The client cannot supply the file's facts: they come from the row.
    await expectProblem(
      await post(t, alice, id, { fileId: mine.id, name: "evil.exe", size: 1 }),
      400,
      "validation_failed",
    );
    await expectProblem(await post(t, alice, id, { fileId: "0".repeat(26) }), 404, "file_not_found");
    await expectProblem(await post(t, alice, id, { fileId: bobs.id }), 422, "not_file_owner");
    const started = await call("/v1/files/uploads", {
      method: "POST",
      ...as(t, alice),
      json: { purpose: "attachment", name: "big.pdf", size: 6 * 1024 * 1024 },
    });
    const { uploadId } = await started.json<{ uploadId: string }>();
    await expectProblem(await post(t, alice, id, { fileId: uploadId }), 422, "file_not_ready");
    expect((await call(`/v1/files/${mine.id}`, { method: "DELETE", ...as(t, alice) })).status).toBe(204);
    await expectProblem(await post(t, alice, id, { fileId: mine.id }), 404, "file_not_found");
    // Another tenant's file id is unknown here.
    const other = await createTenant();
    const stranger = await registerUser(other.slug);
    const theirs = await upload(other.slug, stranger);
    await expectProblem(await post(t, alice, id, { fileId: theirs.id }), 404, "file_not_found");
    const kept = await upload(t, alice, "kept.pdf");
    const s = await connect(t, { token: bob.tokens.accessToken });
    s.send({ type: "send", clientId: "a", conversationId: id, kind: "file", body: { fileId: kept.id } });
    s.send({ type: "send", clientId: "b", conversationId: id, kind: "file", body: { fileId: "bad" } });
    s.send({ type: "send", clientId: "c", conversationId: id, kind: "file", body: { fileId: theirs.id } });
    const codes = await s.until(() => {
      const e = s.frames.filter((f) => f.type === "error");
      return e.length === 3 && Object.fromEntries(e.map((f) => [f.clientId, f.code]));
    }, "3 errors");
    expect(codes).toEqual({ a: "not_file_owner", b: "invalid_frame", c: "file_not_found" });
    expect(
      (await (await call(`/v1/conversations/${id}/messages`, as(t, alice))).json<{ items: Frame[] }>()).items.map(
        (i) => i.kind,
      ),
    ).toEqual([]);
  });

  it("members download the attachment through the conversation; others, recalled and deleted files get 404", async () => {
    const { t, alice, bob, carol, dave, id } = await setup();
    const f = await upload(t, alice);
    // Before it is sent, and outside the conversation, the attachment is alice's alone.
    await expectProblem(await call(`/v1/files/${f.id}`, as(t, bob)), 404, "file_not_found");
    await expectProblem(await attachment(t, bob, id, f.id), 404, "file_not_found");
    const sent = await (await post(t, alice, id, { fileId: f.id, caption: "v1" })).json<Msg>();
    const res = await attachment(t, bob, id, f.id);
    expect(res.status).toBe(200);
    const view = await res.json<FileJson>();
    const own = await (await call(`/v1/files/${f.id}`, as(t, alice))).json<FileJson>();
    const { url: _u, urlExpiresAt: _e, ...facts } = own;
    expect(view).toMatchObject(facts);
    expect(Object.keys(view).sort()).toEqual(Object.keys(own).sort());
    const bytes = await exports.default.fetch(new Request(view.url));
    expect(bytes.status).toBe(200);
    expect(new Uint8Array(await bytes.arrayBuffer())).toEqual(PDF);
    expect((await attachment(t, alice, id, f.id)).status).toBe(200);
    // Not a member, another conversation, another file id, another tenant.
    await expectProblem(await attachment(t, dave, id, f.id), 404, "conversation_not_found");
    const elsewhere = await group(t, bob, [dave]);
    await expectProblem(await attachment(t, bob, elsewhere, f.id), 404, "file_not_found");
    await expectProblem(await attachment(t, bob, id, "0".repeat(26)), 404, "file_not_found");
    const other = await createTenant();
    const stranger = await registerUser(other.slug);
    await expectProblem(await attachment(other.slug, stranger, id, f.id), 404, "conversation_not_found");
    // The caption can be edited; the file cannot change.
    const edit = (body: unknown) =>
      call(`/v1/conversations/${id}/messages/${sent.messageId}`, { method: "PATCH", ...as(t, alice), json: { body } });
    const edited = await (await edit({ fileId: f.id, caption: "v2" })).json<{ message: Frame }>();
    expect(edited.message.body).toEqual({
      fileId: f.id,
      caption: "v2",
      name: "plan.pdf",
      contentType: "application/pdf",
      size: PDF.length,
    });
    expect((await (await edit({ fileId: f.id })).json<{ message: Frame }>()).message.body).not.toHaveProperty(
      "caption",
    );
    const another = await upload(t, alice, "other.pdf");
    await expectProblem(await edit({ fileId: another.id }), 400, "validation_failed");
    // Recalled: access goes with the message (while another message with the file keeps it).
    const again = await (await post(t, alice, id, { fileId: f.id })).json<Msg>();
    expect((await recall(t, alice, id, sent.messageId)).status).toBe(200);
    expect((await attachment(t, carol, id, f.id)).status).toBe(200);
    expect((await recall(t, alice, id, again.messageId)).status).toBe(200);
    await expectProblem(await attachment(t, carol, id, f.id), 404, "file_not_found");
    // Deleted by its owner: gone for the members as well.
    const g = await upload(t, alice, "g.pdf");
    expect((await post(t, alice, id, { fileId: g.id })).status).toBe(201);
    expect((await attachment(t, carol, id, g.id)).status).toBe(200);
    expect((await call(`/v1/files/${g.id}`, { method: "DELETE", ...as(t, alice) })).status).toBe(204);
    await expectProblem(await attachment(t, carol, id, g.id), 404, "file_not_found");
  });

  it("captions are moderated like text", async () => {
    const { t, alice, id } = await setup({ messages: { moderation: { mode: "mask", words: ["secret"] } } });
    const f = await upload(t, alice);
    const m = await (await post(t, alice, id, { fileId: f.id, caption: "top SECRET plan" })).json<Frame>();
    expect(m.body).toMatchObject({ caption: "top ****** plan" });
    const blocked = await createTenant({ config: { messages: { moderation: { mode: "block", words: ["secret"] } } } });
    const [a, b] = [await registerUser(blocked.slug), await registerUser(blocked.slug)];
    const gid = await group(blocked.slug, a, [b]);
    const g = await upload(blocked.slug, a);
    await expectProblem(await post(blocked.slug, a, gid, { fileId: g.id, caption: "secret" }), 422, "message_blocked");
    expect((await post(blocked.slug, a, gid, { fileId: g.id })).status).toBe(201);
  });
});
