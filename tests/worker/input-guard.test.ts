import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { jsonTextProblem, MAX_JSON_DEPTH } from "../../src/lib/json-guard";
import { searchQuery } from "../../src/lib/search-query";
import { as, befriend, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";
import { connect, group } from "./socket-helpers";

const deep = (n: number, leaf = "1") => "[".repeat(n) + leaf + "]".repeat(n);
const deepObject = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);

describe("the JSON guard", () => {
  it("bounds depth and refuses NUL and lone surrogates, raw or escaped, in strings and keys", () => {
    expect(jsonTextProblem(deep(MAX_JSON_DEPTH))).toBeNull();
    expect(jsonTextProblem(deep(MAX_JSON_DEPTH + 1))).toMatch(/nest/);
    expect(jsonTextProblem(deepObject(5000))).toMatch(/nest/);
    // Brackets inside strings are text, not nesting.
    expect(jsonTextProblem(JSON.stringify({ t: "[".repeat(5000) }))).toBeNull();
    expect(jsonTextProblem('{"a":"x\\u0000y"}')).toMatch(/NUL/);
    expect(jsonTextProblem('{"a\\u0000":1}')).toMatch(/NUL/);
    expect(jsonTextProblem('{"a":"x\u0000y"}')).toMatch(/NUL/);
    expect(jsonTextProblem('{"a":"\\ud800"}')).toMatch(/surrogate/);
    expect(jsonTextProblem('{"a":"\\udc00x"}')).toMatch(/surrogate/);
    expect(jsonTextProblem('{"a":"\ud800"}')).toMatch(/surrogate/);
    expect(jsonTextProblem('{"a":"\\ud83d\\ude00 fine \\\\u0000 is text"}')).toBeNull();
    expect(jsonTextProblem('{"a":"😀","b":"\\"[[["}')).toBeNull();
  });
});

describe("request bodies", () => {
  let slug: string;
  let alice: Awaited<ReturnType<typeof registerUser>>;
  let bob: Awaited<ReturnType<typeof registerUser>>;
  let conversationId: string;

  beforeAll(async () => {
    const t = await tenantWithOwner();
    slug = t.tenant.slug;
    [alice, bob] = await Promise.all([registerUser(slug), registerUser(slug)]);
    await befriend(slug, alice, bob);
    conversationId = await group(slug, alice, [bob]);
  });

  const send = (body: BodyInit, who = alice, id = conversationId) =>
    call(`/v1/conversations/${id}/messages`, {
      method: "POST",
      ...as(slug, who),
      body,
      headers: { ...as(slug, who).headers, "content-type": "application/json" },
    });

  it("deeply nested JSON is a 400 invalid_body on message routes, before any membership check", async () => {
    const body = (n: number) => `{"clientId":"c1","kind":"custom","body":{"v":${deep(n)}}}`;
    await expectProblem(await send(body(5000)), 400, "invalid_body");
    await expectProblem(await send(body(5000), alice, "g_00000000000000000000000000"), 400, "invalid_body");
    await expectProblem(await send(deepObject(100_000)), 400, "invalid_body");
    // Within the bound the message is stored as sent.
    const ok = await send(body(MAX_JSON_DEPTH - 3));
    expect(ok.status, await ok.clone().text()).toBe(201);
  });

  it("NUL characters and lone surrogates in any JSON string are refused", async () => {
    await expectProblem(await send('{"clientId":"c2","body":{"text":"hi\\u0000there"}}'), 400, "invalid_body");
    await expectProblem(await send('{"clientId":"c3","body":{"text":"\\ud800"}}'), 400, "invalid_body");
    await expectProblem(
      await call("/v1/auth/login", {
        method: "POST",
        tenant: slug,
        body: '{"identifier":"a\\u0000","password":"x"}',
        headers: { "content-type": "application/json" },
      }),
      400,
      "invalid_body",
    );
  });

  it("invalid UTF-8 in a JSON body is a 400, never stored as replacement characters", async () => {
    const bytes = new Uint8Array([
      ...new TextEncoder().encode('{"clientId":"c4","body":{"text":"a'),
      0xff,
      0xfe,
      ...new TextEncoder().encode('"}}'),
    ]);
    await expectProblem(await send(bytes), 400, "invalid_body");
    const overlong = new Uint8Array([
      ...new TextEncoder().encode('{"nickname":"'),
      0xc0,
      0xaf,
      ...new TextEncoder().encode('"}'),
    ]);
    await expectProblem(
      await call("/v1/me", {
        method: "PATCH",
        ...as(slug, alice),
        body: overlong,
        headers: { ...as(slug, alice).headers, "content-type": "application/json" },
      }),
      400,
      "invalid_body",
    );
    const me = await (await call("/v1/me", as(slug, alice))).json<{ nickname: string }>();
    expect(me.nickname).not.toContain("\ufffd");
  });

  it("a chunked body over the limit is a 413 problem, counted while streaming", async () => {
    let sent = 0;
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // 2 MiB at most, well past the 1 MiB limit; the reader stops long before the end.
        if (sent >= 32) return controller.close();
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await exports.default.fetch(
      new Request("http://api.test/v1/auth/login", {
        method: "POST",
        body: stream,
        headers: { "x-tenant": slug, "content-type": "application/json" },
        duplex: "half",
      } as RequestInit),
    );
    await expectProblem(res, 413, "body_too_large");
    expect(sent).toBeLessThan(32);
  });

  it("a body that stalls, or trickles past the deadline, is abandoned with 408 body_timeout", async () => {
    const { readBounded } = await import("../../src/workers/gateway/middleware/body-limit");
    const chunk = new TextEncoder().encode("x");
    let cancelled = 0;
    const stalls = new ReadableStream<Uint8Array>({
      start: (c) => c.enqueue(chunk), // one byte, then nothing
      cancel: () => void cancelled++,
    });
    await expect(readBounded(stalls, 1024, -1, { idleMs: 50, totalMs: null })).rejects.toMatchObject({
      status: 408,
      code: "body_timeout",
    });
    let open = true;
    const trickles = new ReadableStream<Uint8Array>({
      pull: (c) => new Promise<void>((r) => setTimeout(() => r(open ? c.enqueue(chunk) : undefined), 10)),
      cancel: () => void (cancelled++, (open = false)),
    });
    await expect(readBounded(trickles, 1024 * 1024, -1, { idleMs: 1000, totalMs: 150 })).rejects.toMatchObject({
      status: 408,
      code: "body_timeout",
    });
    expect(cancelled).toBe(2);
    const whole = new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(chunk), c.enqueue(chunk), c.close()) });
    expect(await readBounded(whole, 2, -1, { idleMs: 50, totalMs: 100 })).toEqual(new Uint8Array([120, 120]));
  });

  it("malformed JSON stays a 400 malformed_json, and an empty JSON body too", async () => {
    await expectProblem(await send("{"), 400, "malformed_json");
    await expectProblem(await send(""), 400, "malformed_json");
  });

  it("socket frames go through the same guard: a deep or NUL frame gets an error frame, the socket stays", async () => {
    const s = await connect(slug, { token: alice.tokens.accessToken });
    s.send(
      `{"type":"send","conversationId":"${conversationId}","clientId":"w1","kind":"custom","body":{"v":${deep(5000)}}}`,
    );
    await s.frame("error", (f) => typeof f.message === "string" && /nest/.test(f.message));
    s.send(`{"type":"send","conversationId":"${conversationId}","clientId":"w2","body":{"text":"a\\u0000"}}`);
    await s.frame("error", (f) => typeof f.message === "string" && /NUL/.test(f.message));
    s.send({ type: "ping" });
    await s.frame("pong");
    s.ws.close();
  });
});

describe("search queries", () => {
  it("the search normaliser refuses control characters and lone surrogates, and escapes LIKE and FTS syntax", () => {
    for (const q of ["\u0000", "abc\u0000def", "\u0001", "ab\u001bc", "\u007f", "\u0085", "\ud800x", "   "]) {
      expect(() => searchQuery(q), JSON.stringify(q)).toThrow(
        expect.objectContaining({ status: 400, code: "invalid_query" }),
      );
    }
    expect(searchQuery("  Ａｂｃ  de ", { lowercase: true })).toEqual({
      text: "abc de",
      like: "%abc de%",
      phrase: '"abc de"',
    });
    expect(searchQuery('50%_"x"')).toEqual({ text: '50%_"x"', like: '%50\\%\\_"x"%', phrase: '"50%_""x"""' });
    expect(searchQuery("日本").phrase).toBeNull();
  });

  it("an encoded control character anywhere in a URL is a 400 invalid_parameter on every route, never a 500", async () => {
    const t = await tenantWithOwner();
    const u = await registerUser(t.tenant.slug);
    for (const path of ["/v1/users", "/v1/messages/search"]) {
      for (const q of ["%00", "abc%00def", "%01%02%03", "ab%1Bc", "%7F"]) {
        await expectProblem(await call(`${path}?q=${q}`, as(t.tenant.slug, u)), 400, "invalid_parameter");
      }
    }
    await expectProblem(await call("/v1/admin/users?q=%00x", as(t.tenant.slug, t.owner)), 400, "invalid_parameter");
    await expectProblem(await call("/admin/v1/dead-letters?tenantId=x%00", { admin: true }), 400, "invalid_parameter");
    await expectProblem(await call(`/v1/users/${u.userId}%00`, as(t.tenant.slug, u)), 400, "invalid_parameter");
    // Quotes, FTS operators and LIKE wildcards are searched as text.
    for (const q of ['"', "a*b", "NEAR(a b)", "%_%", "a OR b", "日本"]) {
      expect((await call(`/v1/users?q=${encodeURIComponent(q)}`, as(t.tenant.slug, u))).status, q).toBe(200);
      expect((await call(`/v1/messages/search?q=${encodeURIComponent(q)}`, as(t.tenant.slug, u))).status, q).toBe(200);
    }
  });
});

describe("display text", () => {
  it("names, titles and bios refuse controls and bidirectional overrides; emoji joiners, CJK and line breaks in bios stay", async () => {
    const t = await tenantWithOwner();
    const u = await registerUser(t.tenant.slug);
    const patch = (json: Record<string, unknown>) => call("/v1/me", { method: "PATCH", ...as(t.tenant.slug, u), json });
    for (const nickname of [
      "evil\u202Egnp.exe",
      "a\u2066b",
      "zero\u200Bwidth",
      "line\nbreak",
      "bell\u0007",
      "c1\u0085",
      "b\uFEFFom",
    ]) {
      await expectProblem(await patch({ nickname }), 400, "validation_failed");
    }
    for (const nickname of ["👨‍👩‍👧 family", "张伟", "क्‍ष", "<b>bold</b>"]) {
      const res = await patch({ nickname });
      expect(res.status, nickname).toBe(200);
      expect((await res.json<{ nickname: string }>()).nickname).toBe(nickname);
    }
    expect((await patch({ bio: "line one\nline two\ttabbed" })).status).toBe(200);
    await expectProblem(await patch({ bio: "a\u202Db" }), 400, "validation_failed");
    await expectProblem(
      await call("/v1/admin/announcements", {
        method: "POST",
        ...as(t.tenant.slug, t.owner),
        json: { title: "Sale\u202E%05" },
      }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call("/v1/friends/groups", { method: "POST", ...as(t.tenant.slug, u), json: { name: "x\u0000" } }),
      400,
      "invalid_body",
    );
  });
});
