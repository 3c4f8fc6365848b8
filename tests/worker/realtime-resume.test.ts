import { describe, expect, it } from "vitest";
import { as, registerUser } from "./auth-helpers";
import { call, createTenant } from "./helpers";
import { connect, group, readMarker } from "./socket-helpers";

type U = Awaited<ReturnType<typeof registerUser>>;

const post = (t: string, u: U, id: string, i: number) =>
  call(`/v1/conversations/${id}/messages`, {
    method: "POST",
    ...as(t, u),
    json: { clientId: `k${i}`, body: { text: `m${i}` } },
  });

describe("resume order on a new socket", () => {
  it("a live message arriving before the device's sync waits for it: the device sees 1…n in order, once", async () => {
    const t = await createTenant();
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const id = await group(t.slug, a, [b]);
    for (let i = 1; i <= 3; i++) await post(t.slug, a, id, i);
    const sb = await connect(t.slug, { token: b.tokens.accessToken });
    // Seq 4 reaches the hub between the upgrade and the client's first frame: b's read frame,
    // which is never held, comes after it on the same chain, so seq 4 is in the hub and held.
    expect((await post(t.slug, a, id, 4)).status).toBe(201);
    await readMarker(t.slug, b, id, 4, [sb]);
    expect(sb.messages(id)).toHaveLength(0);
    sb.send({ type: "sync", cursors: { [id]: 0 } });
    await sb.frame("synced");
    await sb.until(() => sb.messages(id).length === 4, "seqs 1..4");
    await post(t.slug, a, id, 5);
    await sb.until(() => sb.messages(id).length === 5, "seq 5");
    await readMarker(t.slug, b, id, 5, [sb]);
    expect(sb.messages(id).map((f) => f.seq)).toEqual([1, 2, 3, 4, 5]);
    // The held frame went out before `synced`, with the synced ones.
    const types = sb.frames
      .filter((f) => f.type === "message" || f.type === "synced")
      .map((f) => (f.type === "message" ? `m${String(f.seq)}` : f.type));
    expect(types.slice(0, 5)).toEqual(["m1", "m2", "m3", "m4", "synced"]);
  });

  it("held frames of conversations the sync does not name still come in order, before newer ones", async () => {
    const t = await createTenant();
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const [g1, g2] = [await group(t.slug, a, [b]), await group(t.slug, a, [b])];
    const sb = await connect(t.slug, { token: b.tokens.accessToken });
    await post(t.slug, a, g2, 1);
    await readMarker(t.slug, b, g2, 1, [sb]); // g2's seq 1 is held in the hub now
    sb.send({ type: "sync", cursors: { [g1]: 0 } });
    await post(t.slug, a, g2, 2);
    await sb.until(() => sb.messages(g2).length === 2, "g2 1..2");
    expect(sb.messages(g2).map((f) => f.seq)).toEqual([1, 2]);
  });

  it("a first frame other than sync releases held frames at once; a silent socket gets them after the hold", async () => {
    const t = await createTenant();
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const id = await group(t.slug, a, [b]);
    const talker = await connect(t.slug, { token: b.tokens.accessToken });
    const silent = await connect(t.slug, { token: b.tokens.accessToken });
    await post(t.slug, a, id, 1);
    await readMarker(t.slug, b, id, 1, [talker, silent]);
    expect(talker.messages(id).length + silent.messages(id).length).toBe(0);
    talker.send({ type: "typing", conversationId: id });
    await talker.until(() => talker.messages(id).length === 1, "released by the first frame");
    expect(silent.messages(id)).toHaveLength(0);
    await silent.until(() => silent.messages(id).length === 1, "released by the hold's end");
    // Live traffic after the hold is not held.
    await post(t.slug, a, id, 2);
    await Promise.all([talker, silent].map((s) => s.until(() => s.messages(id).length === 2, "seq 2")));
  });

  it("a socket that closes while its sync is answered gets nothing more, and later sockets are unaffected", async () => {
    const t = await createTenant();
    const [a, b] = [await registerUser(t.slug), await registerUser(t.slug)];
    const id = await group(t.slug, a, [b]);
    for (let i = 1; i <= 5; i++) await post(t.slug, a, id, i);
    const gone = await connect(t.slug, { token: b.tokens.accessToken });
    gone.send({ type: "sync", cursors: { [id]: 0 } });
    gone.ws.close(1000, "bye");
    await post(t.slug, a, id, 6);
    const next = await connect(t.slug, { token: b.tokens.accessToken });
    next.send({ type: "sync", cursors: { [id]: 3 } });
    await next.frame("synced");
    await post(t.slug, a, id, 7);
    await next.until(() => next.messages(id).length === 4, "4..7");
    await readMarker(t.slug, b, id, 7, [next]);
    expect(next.messages(id).map((f) => f.seq)).toEqual([4, 5, 6, 7]);
  });
});
