import { beforeAll, describe, expect, it } from "vitest";
import { as } from "./auth-helpers";
import { call, expectProblem } from "./helpers";
import { create, postTenant, type User } from "./post-helpers";
import { found, search, searchRaw } from "./search-helpers";

describe("search: posts", () => {
  let slug: string;
  let author: User;
  let other: User;

  beforeAll(async () => {
    ({ slug, author, other } = await postTenant());
  });

  it("finds a published post by a word of its body and answers it as GET /v1/posts/{id} does", async () => {
    const p = await create(slug, author, { title: "Trip notes", body: "The canopy walk was lovely" });
    const page = await search(slug, other, { q: "canopy" });
    expect(page.items.map((h) => h.id)).toEqual([p.id]);
    const hit = page.items[0]!;
    expect(hit.type).toBe("post");
    expect(hit.score).toBeGreaterThan(0);
    const got = await (await call(`/v1/posts/${p.id}`, as(slug, other))).json();
    expect(hit.post).toEqual(got);
    expect(hit.snippet).toBe("The <mark>canopy</mark> walk was lovely");
    expect(page.nextCursor).toBeNull();
  });

  it("Latin words match by prefix, case- and accent-blind (café = cafe, Straße = strasse)", async () => {
    const p = await create(slug, author, { body: "Canopyx café on the Straße" });
    expect(await found(slug, other, "canopyx")).toEqual([p.id]);
    expect(await found(slug, other, "CANOPYX")).toEqual([p.id]);
    expect(await found(slug, other, "canopyx cafe")).toEqual([p.id]);
    expect(await found(slug, other, "CAFÉ canopy")).toContain(p.id);
    expect(await found(slug, other, "strasse canopyx")).toEqual([p.id]);
    expect(await found(slug, other, "straße canopyx")).toEqual([p.id]);
    const hit = (await search(slug, other, { q: "cafe canopyx" })).items[0]!;
    expect(hit.snippet).toBe("<mark>Canopyx</mark> <mark>café</mark> on the Straße");
    // A prefix, not a substring: "nopyx" is inside a word.
    expect(await found(slug, other, "nopyx")).toEqual([]);
  });

  it("Chinese is found by any substring of two characters or more; a single character too", async () => {
    const p = await create(slug, author, { body: "今天天气很好，我们去公园散步。" });
    expect(await found(slug, other, "天气")).toEqual([p.id]);
    expect(await found(slug, other, "气很")).toEqual([p.id]);
    expect(await found(slug, other, "今天天气很好")).toEqual([p.id]);
    expect(await found(slug, other, "公园 散步")).toEqual([p.id]);
    expect(await found(slug, other, "天晴")).toEqual([]);
    expect(await found(slug, other, "很天")).toEqual([]);
    // One character: where it starts a pair, and where it ends a run (步 before 。).
    expect(await found(slug, other, "园")).toEqual([p.id]);
    expect(await found(slug, other, "步")).toEqual([p.id]);
    const hit = (await search(slug, other, { q: "天气" })).items[0]!;
    expect(hit.snippet).toBe("今天<mark>天气</mark>很好，我们去公园散步。");
  });

  it("Japanese and Korean samples", async () => {
    const ja = await create(slug, author, { body: "東京タワーへ行きました。ラーメンが美味しかった" });
    const ko = await create(slug, author, { body: "안녕하세요 여러분, 오늘 날씨가 좋네요" });
    expect(await found(slug, other, "タワー")).toEqual([ja.id]);
    expect(await found(slug, other, "ラーメン")).toEqual([ja.id]);
    expect(await found(slug, other, "行き")).toEqual([ja.id]);
    expect(await found(slug, other, "하세")).toEqual([ko.id]);
    expect(await found(slug, other, "날씨가")).toEqual([ko.id]);
    expect(await found(slug, other, "날씨 좋네")).toEqual([ko.id]);
  });

  it("title weighs more than body; sort=recent is newest first", async () => {
    const inBody = await create(slug, author, { title: "x", body: "zebrafinch zebrafinch words words words words" });
    const inTitle = await create(slug, author, { title: "zebrafinch", body: "other words entirely words words words" });
    expect(await found(slug, other, "zebrafinch")).toEqual([inTitle.id, inBody.id]);
    const recent = await found(slug, other, "zebrafinch", { sort: "recent" });
    expect(recent).toEqual([inTitle.id, inBody.id]);
    const older = await create(slug, author, { body: "zebrafinch" });
    expect((await found(slug, other, "zebrafinch", { sort: "recent" }))[0]).toBe(older.id);
  });

  it("snippets escape HTML and mark matches; a long body is cut around the first match", async () => {
    const p = await create(slug, author, { body: `<script>alert("x")</script> & hostilemark "quoted"` });
    const hit = (await search(slug, other, { q: "hostilemark" })).items[0]!;
    expect(hit.id).toBe(p.id);
    expect(hit.snippet).toBe("…ert(&quot;x&quot;)&lt;/script&gt; &amp; <mark>hostilemark</mark> &quot;quoted&quot;");
    const long = await create(slug, author, {
      body: `${"lorem ipsum ".repeat(20)}needleword ${"dolor sit ".repeat(20)}`,
    });
    const s = (await search(slug, other, { q: "needleword" })).items.find((h) => h.id === long.id)!.snippet;
    expect(s.startsWith("…")).toBe(true);
    expect(s.endsWith("…")).toBe(true);
    expect(s).toContain("<mark>needleword</mark>");
    expect(s.length).toBeLessThan(100);
    // Two Chinese matches in one window.
    const zh = await create(slug, author, { body: "<b>猫咪</b>和猫咪" });
    const z = (await search(slug, other, { q: "猫咪" })).items.find((h) => h.id === zh.id)!.snippet;
    expect(z).toBe("&lt;b&gt;<mark>猫咪</mark>&lt;/b&gt;和<mark>猫咪</mark>");
  });

  it("hostile FTS syntax never reaches MATCH: no 500, a 200 or a 400 query_too_broad", async () => {
    await create(slug, author, { body: "near and or not quoting test" });
    const hostile = [
      '"',
      '""',
      "*",
      "near(",
      "NEAR(a b)",
      "-",
      "a AND",
      "OR",
      "NOT x",
      "(((",
      ")",
      "quoting*",
      "title:quoting",
      "{title}: x",
      "^quoting",
      '"unbalanced',
      "a + b",
      "' OR 1=1 --",
      "\\",
      "%_",
      "🙂",
      "ǅ",
    ];
    for (const q of hostile) {
      const res = await searchRaw(slug, other, { q });
      expect([200, 400], `${q}: ${await res.clone().text()}`).toContain(res.status);
      if (res.status === 400) await expectProblem(res, 400, "query_too_broad");
    }
    expect(await found(slug, other, "NOT quoting")).not.toEqual([]);
    expect(await found(slug, other, '"quoting')).not.toEqual([]);
    expect(await found(slug, other, "near(quoting")).not.toEqual([]);
  });

  it("guards: no word, too long, control characters, bad type or sort, forged cursor", async () => {
    await expectProblem(await searchRaw(slug, other, { q: "!!! ... ???" }), 400, "query_too_broad");
    await expectProblem(await searchRaw(slug, other, { q: "。、" }), 400, "query_too_broad");
    await expectProblem(await searchRaw(slug, other, { q: "x".repeat(201) }), 400, "validation_failed");
    expect((await searchRaw(slug, other, { q: "x".repeat(200) })).status).toBe(200);
    await expectProblem(await searchRaw(slug, other, { q: "a\u0085b" }), 400, "validation_failed");
    // C0 controls never get past the gateway's URL guard.
    await expectProblem(await searchRaw(slug, other, { q: "a\u0000b" }), 400, "invalid_parameter");
    await expectProblem(await searchRaw(slug, other, { q: "a\u0007b" }), 400, "invalid_parameter");
    await expectProblem(await searchRaw(slug, other, { q: "a\u202eb" }), 400, "validation_failed");
    await expectProblem(await searchRaw(slug, other, { q: "" }), 400, "validation_failed");
    await expectProblem(await searchRaw(slug, other, { q: "x", type: "files" }), 400, "validation_failed");
    await expectProblem(await searchRaw(slug, other, { q: "x", sort: "best" }), 400, "validation_failed");
    await expectProblem(await searchRaw(slug, other, { q: "x", from: "yesterday" }), 400, "validation_failed");
    await expectProblem(await searchRaw(slug, other, { q: "x", cursor: "abc.def" }), 400, "invalid_cursor");
    await expectProblem(await call("/v1/search?q=x", { tenant: slug }), 401, "unauthenticated");
  });
});
