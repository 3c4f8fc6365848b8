import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { desc } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { outbox } from "../../src/db/tenant/schema";
import { fromBase64url } from "../../src/lib/ids";
import { downloadUrl, signDownload } from "../../src/workers/file-links/file-urls";
import { bearer, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem, tenantDbOf } from "./helpers";

// A real 1×1 PNG.
const PNG = fromBase64url(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg",
);
const ZIP = new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]); // an empty archive
const PDF = new TextEncoder().encode("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
const HTML = new TextEncoder().encode("<!DOCTYPE html><html><script>alert(document.cookie)</script></html>");

interface FileJson {
  id: string;
  ownerId: string;
  name: string;
  contentType: string;
  size: number;
  purpose: string;
  sha256: string | null;
  createdAt: string;
  url: string;
  urlExpiresAt: string;
}

function upload(
  tenant: string,
  token: string,
  bytes: Uint8Array,
  name: string,
  purpose = "attachment",
  fields: Record<string, string> = {},
) {
  const form = new FormData();
  form.set("file", new Blob([bytes], { type: "application/octet-stream" }), name);
  form.set("purpose", purpose);
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return call("/v1/files", { method: "POST", tenant, body: form, headers: bearer(token) });
}

async function uploaded(
  tenant: string,
  token: string,
  bytes: Uint8Array,
  name: string,
  purpose = "attachment",
): Promise<FileJson> {
  const res = await upload(tenant, token, bytes, name, purpose);
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

/** Fetches a URL as a browser's `<img src>` would: no Authorization, no X-Tenant. */
const fetchUrl = (url: string, headers: Record<string, string> = {}) =>
  exports.default.fetch(new Request(url, { headers }));

const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());

async function setup() {
  const t = await createTenant();
  const [alice, bob] = await Promise.all([registerUser(t.slug), registerUser(t.slug)]);
  return { t, alice, bob };
}

describe("files: upload, metadata, download", () => {
  it("stores a PNG, shows its metadata and serves it through a signed URL without auth", async () => {
    const { t, alice } = await setup();
    const f = await uploaded(t.slug, alice.tokens.accessToken, PNG, "me.png", "avatar");
    expect(f).toMatchObject({
      ownerId: alice.userId,
      name: "me.png",
      contentType: "image/png",
      size: PNG.length,
      purpose: "avatar",
    });
    expect(f.id).toMatch(/^[0-9a-z]{26}$/);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", PNG));
    expect(f.sha256).toBe([...digest].map((b) => b.toString(16).padStart(2, "0")).join(""));
    expect(Date.parse(f.urlExpiresAt)).toBeGreaterThan(Date.now() + 59 * 60_000);
    expect(f.url).toMatch(
      new RegExp(`^http://${t.slug}\\.localhost/v1/files/${f.id}/content\\?exp=\\d+&sig=[A-Za-z0-9_-]{43}$`),
    );

    const meta = await call(`/v1/files/${f.id}`, { tenant: t.slug, headers: bearer(alice.tokens.accessToken) });
    expect(meta.status).toBe(200);
    expect(await meta.json()).toMatchObject({ id: f.id, contentType: "image/png", size: PNG.length });

    const res = await fetchUrl(f.url);
    expect(res.status).toBe(200);
    expect(await bytesOf(res)).toEqual(PNG);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-length")).toBe(String(PNG.length));
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-disposition")).toBe(`inline; filename="me.png"; filename*=UTF-8''me.png`);
    expect(res.headers.get("cache-control")).toMatch(/^private, max-age=\d+, immutable$/);
    expect(res.headers.get("content-security-policy")).toContain("sandbox");
    // A response the route builds itself still gets the chain's headers, its own values kept.
    expect(res.headers.get("strict-transport-security")).toMatch(/^max-age=\d+/);
    expect(res.headers.get("referrer-policy")).toBe("no-referrer");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
  });

  it("answers byte ranges with 206", async () => {
    const { t, alice } = await setup();
    const f = await uploaded(t.slug, alice.tokens.accessToken, PDF, "doc.pdf");
    const res = await fetchUrl(f.url, { range: "bytes=0-3" });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 0-3/${PDF.length}`);
    expect(new TextDecoder().decode(await bytesOf(res))).toBe("%PDF");
    const tail = await fetchUrl(f.url, { range: "bytes=-6" });
    expect(new TextDecoder().decode(await bytesOf(tail))).toBe("%%EOF\n");
    // An unsatisfiable range is ignored: the whole file.
    const all = await fetchUrl(f.url, { range: `bytes=${PDF.length}-` });
    expect(all.status).toBe(200);
    expect(all.headers.get("content-disposition")).toMatch(/^attachment; /);
    await all.arrayBuffer();
  });

  it("writes file.uploaded and file.deleted to the tenant outbox", async () => {
    const { t, alice } = await setup();
    const f = await uploaded(t.slug, alice.tokens.accessToken, PDF, "doc.pdf");
    expect(
      (await call(`/v1/files/${f.id}`, { method: "DELETE", tenant: t.slug, headers: bearer(alice.tokens.accessToken) }))
        .status,
    ).toBe(204);
    const events = await (await tenantDbOf(t.slug)).db.select().from(outbox).orderBy(desc(outbox.id)).limit(5).all();
    const mine = events.filter((e) => e.subject === f.id).map((e) => [e.type, JSON.parse(e.data).ownerId]);
    expect(mine).toEqual([
      ["file.deleted", alice.userId],
      ["file.uploaded", alice.userId],
    ]);
  });

  it("lists the caller's own files, by purpose, with cursors", async () => {
    const { t, alice, bob } = await setup();
    const a1 = await uploaded(t.slug, alice.tokens.accessToken, PNG, "a.png", "avatar");
    const a2 = await uploaded(t.slug, alice.tokens.accessToken, PDF, "b.pdf");
    const a3 = await uploaded(t.slug, alice.tokens.accessToken, ZIP, "c.zip");
    await uploaded(t.slug, bob.tokens.accessToken, PDF, "bob.pdf");
    const h = { tenant: t.slug, headers: bearer(alice.tokens.accessToken) };
    const p1 = await (await call("/v1/files?limit=2", h)).json<{ items: FileJson[]; nextCursor: string | null }>();
    expect(p1.items.map((i) => i.id)).toEqual([a3.id, a2.id]);
    const p2 = await (await call(`/v1/files?limit=2&cursor=${p1.nextCursor}`, h)).json<{
      items: FileJson[];
      nextCursor: string | null;
    }>();
    expect(p2).toMatchObject({ items: [{ id: a1.id }], nextCursor: null });
    const avatars = await (await call("/v1/files?purpose=avatar", h)).json<{ items: FileJson[] }>();
    expect(avatars.items.map((i) => i.id)).toEqual([a1.id]);
    await expectProblem(await call("/v1/files?cursor=garbage", h), 400, "invalid_cursor");
  });
});

describe("files: signed URLs", () => {
  it("refuse expired, forged, missing, other-file and other-tenant signatures with 403", async () => {
    const { t, alice } = await setup();
    const a = await uploaded(t.slug, alice.tokens.accessToken, PNG, "a.png");
    const b = await uploaded(t.slug, alice.tokens.accessToken, PDF, "b.pdf");
    const base = `http://${t.slug}.localhost/v1/files`;

    // A genuine signature whose expiry has passed (issued two hours ago by the injectable clock).
    const old = await downloadUrl(
      env.DB_ENCRYPTION_KEY,
      `http://${t.slug}.localhost`,
      t.id,
      a.id,
      Date.now() - 2 * 3600_000,
    );
    await expectProblem(await fetchUrl(old.url), 403, "url_expired");
    const exp = Math.floor(Date.now() / 1000) - 1;
    await expectProblem(
      await fetchUrl(
        `${base}/${a.id}/content?exp=${exp}&sig=${await signDownload(env.DB_ENCRYPTION_KEY, t.id, a.id, exp)}`,
      ),
      403,
      "url_expired",
    );

    const { searchParams } = new URL(a.url);
    const sig = searchParams.get("sig")!;
    const forged = (sig[0] === "A" ? "B" : "A") + sig.slice(1);
    await expectProblem(
      await fetchUrl(`${base}/${a.id}/content?exp=${searchParams.get("exp")}&sig=${forged}`),
      403,
      "invalid_signature",
    );
    // Moving the expiry later breaks the signature.
    await expectProblem(
      await fetchUrl(`${base}/${a.id}/content?exp=${Number(searchParams.get("exp")) + 3600}&sig=${sig}`),
      403,
      "invalid_signature",
    );
    await expectProblem(await fetchUrl(`${base}/${a.id}/content`), 403, "invalid_signature");
    // File A's signature on file B.
    await expectProblem(await fetchUrl(`${base}/${b.id}/content?${searchParams}`), 403, "invalid_signature");
    // The same URL on another tenant's host.
    const other = await createTenant();
    await expectProblem(
      await fetchUrl(`http://${other.slug}.localhost/v1/files/${a.id}/content?${searchParams}`),
      403,
      "invalid_signature",
    );
  });

  it("stop working once the file is deleted", async () => {
    const { t, alice } = await setup();
    const f = await uploaded(t.slug, alice.tokens.accessToken, PDF, "doc.pdf");
    const h = { tenant: t.slug, headers: bearer(alice.tokens.accessToken) };
    expect((await call(`/v1/files/${f.id}`, { ...h, method: "DELETE" })).status).toBe(204);
    await expectProblem(await fetchUrl(f.url), 404, "file_not_found");
    await expectProblem(await call(`/v1/files/${f.id}`, h), 404, "file_not_found");
    await expectProblem(await call(`/v1/files/${f.id}`, { ...h, method: "DELETE" }), 404, "file_not_found");
    expect(await env.FILES.head(`t/${t.id}/files/${f.id}`)).toBeNull();
    expect((await (await call("/v1/files", h)).json<{ items: unknown[] }>()).items).toEqual([]);
  });
});

describe("files: visibility", () => {
  it("avatars are visible tenant-wide; attachments only to their owner; deletes only by the owner", async () => {
    const { t, alice, bob } = await setup();
    const avatar = await uploaded(t.slug, alice.tokens.accessToken, PNG, "me.png", "avatar");
    const doc = await uploaded(t.slug, alice.tokens.accessToken, PDF, "doc.pdf");
    const asBob = { tenant: t.slug, headers: bearer(bob.tokens.accessToken) };
    const seen = await call(`/v1/files/${avatar.id}`, asBob);
    expect(seen.status).toBe(200);
    expect(await fetchUrl((await seen.json<FileJson>()).url).then((r) => r.status)).toBe(200);
    await expectProblem(await call(`/v1/files/${doc.id}`, asBob), 404, "file_not_found");
    await expectProblem(await call(`/v1/files/${doc.id}`, { ...asBob, method: "DELETE" }), 404, "file_not_found");
    await expectProblem(await call(`/v1/files/${avatar.id}`, { ...asBob, method: "DELETE" }), 404, "file_not_found");
    await expectProblem(await call("/v1/files/nope", asBob), 404, "file_not_found");
  });

  it("another tenant's file ids are unknown", async () => {
    const { t, alice } = await setup();
    const avatar = await uploaded(t.slug, alice.tokens.accessToken, PNG, "me.png", "avatar");
    const t2 = await createTenant();
    const eve = await registerUser(t2.slug);
    const asEve = { tenant: t2.slug, headers: bearer(eve.tokens.accessToken) };
    await expectProblem(await call(`/v1/files/${avatar.id}`, asEve), 404, "file_not_found");
    await expectProblem(await call(`/v1/files/${avatar.id}`, { ...asEve, method: "DELETE" }), 404, "file_not_found");
    // A token of tenant A sent to tenant B is refused outright.
    await expectProblem(
      await call(`/v1/files/${avatar.id}`, { tenant: t2.slug, headers: bearer(alice.tokens.accessToken) }),
      401,
      "invalid_token",
    );
    await expectProblem(await call(`/v1/files/${avatar.id}`, { tenant: t.slug }), 401, "unauthenticated");
  });
});

describe("files: bad uploads", () => {
  it("refuse spoofed, unknown and dangerous types with 415", async () => {
    const { t, alice } = await setup();
    const tok = alice.tokens.accessToken;
    await expectProblem(await upload(t.slug, tok, ZIP, "cat.png"), 415, "unsupported_file_type");
    await expectProblem(await upload(t.slug, tok, HTML, "cat.png"), 415, "unsupported_file_type");
    await expectProblem(await upload(t.slug, tok, HTML, "page"), 415, "unsupported_file_type");
    await expectProblem(
      await upload(
        t.slug,
        tok,
        new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        "x.svg",
      ),
      415,
      "unsupported_file_type",
    );
    await expectProblem(
      await upload(t.slug, tok, new TextEncoder().encode("MZ\x90\x00\x03rest of a PE file"), "setup.exe"),
      415,
      "unsupported_file_type",
    );
    await expectProblem(
      await upload(t.slug, tok, new TextEncoder().encode("#!/bin/sh\nrm -rf /\n"), "notes.txt"),
      415,
      "unsupported_file_type",
    );
    await expectProblem(
      await upload(t.slug, tok, new Uint8Array([0, 1, 2, 3, 0xfe, 0xff, 0x00, 0x10]), "blob"),
      415,
      "unsupported_file_type",
    );
    await expectProblem(await upload(t.slug, tok, PDF, "cv.pdf", "avatar"), 415, "unsupported_file_type");
    // Bytes decide the type: an archive without an extension, or with one the sniffer does not claim, is a zip.
    const zip = await uploaded(t.slug, tok, ZIP, "report.docx");
    expect(zip.contentType).toBe("application/zip");
    const text = await uploaded(t.slug, tok, new TextEncoder().encode("hello, 世界\n"), "notes");
    expect(text.contentType).toBe("text/plain");
    expect((await fetchUrl(text.url)).headers.get("content-type")).toBe("text/plain; charset=utf-8");
  });

  it("refuse oversized files with 413", async () => {
    const t = await createTenant({ config: { limits: { maxUploadBytes: 2048 } } });
    const u = await registerUser(t.slug);
    const big = new Uint8Array(4096);
    big.set(PNG.subarray(0, 8));
    await expectProblem(await upload(t.slug, u.tokens.accessToken, big, "big.png"), 413, "file_too_large");
    // Far past the upload limit, the gateway refuses the body before it is parsed.
    await expectProblem(
      await upload(t.slug, u.tokens.accessToken, new Uint8Array(64 * 1024), "huge.png"),
      413,
      "body_too_large",
    );
    // Avatars have their own cap (2 MiB) below the default upload limit.
    const { t: t2, alice } = await setup();
    const avatar = new Uint8Array(2 * 1024 * 1024 + 1);
    avatar.set(PNG.subarray(0, 8));
    await expectProblem(
      await upload(t2.slug, alice.tokens.accessToken, avatar, "me.png", "avatar"),
      413,
      "file_too_large",
    );
    // The upload limit is not the JSON limit: 1.5 MiB exceeds maxBodyBytes (1 MiB) but is a fine attachment.
    const pdf = new Uint8Array(1536 * 1024).fill(0x20);
    pdf.set(PDF);
    expect((await upload(t2.slug, alice.tokens.accessToken, pdf, "big.pdf")).status).toBe(201);
  });

  it("refuse malformed requests with 400 or 415", async () => {
    const { t, alice } = await setup();
    const h = bearer(alice.tokens.accessToken);
    const noFile = new FormData();
    noFile.set("purpose", "attachment");
    await expectProblem(
      await call("/v1/files", { method: "POST", tenant: t.slug, body: noFile, headers: h }),
      400,
      "validation_failed",
    );
    const textField = new FormData();
    textField.set("purpose", "attachment");
    textField.set("file", "not a file");
    await expectProblem(
      await call("/v1/files", { method: "POST", tenant: t.slug, body: textField, headers: h }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await upload(t.slug, alice.tokens.accessToken, PNG, "a.png", "wallpaper"),
      400,
      "validation_failed",
    );
    await expectProblem(
      await upload(t.slug, alice.tokens.accessToken, new Uint8Array(0), "empty.txt"),
      400,
      "empty_file",
    );
    await expectProblem(
      await call("/v1/files", { method: "POST", tenant: t.slug, json: { purpose: "attachment" }, headers: h }),
      415,
      "unsupported_media_type",
    );
    await expectProblem(
      await call("/v1/files", { method: "POST", tenant: t.slug, body: PNG, headers: h }),
      415,
      "unsupported_media_type",
    );
  });

  it("keep a clean file name", async () => {
    const { t, alice } = await setup();
    // The `name` field overrides the part's file name (whose quotes multipart encoding mangles).
    await expectProblem(
      await upload(t.slug, alice.tokens.accessToken, PDF, "x.pdf", "attachment", { name: "Ré\u0000sumé.pdf" }),
      400,
      "validation_failed",
    );
    const res0 = await upload(t.slug, alice.tokens.accessToken, PDF, "x.pdf", "attachment", {
      name: '../../etc/Ré\u0007sumé "v2".pdf',
    });
    expect(res0.status, await res0.clone().text()).toBe(201);
    const f = await res0.json<FileJson>();
    expect(f.name).toBe('Résumé "v2".pdf');
    const res = await fetchUrl(f.url);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="R_sum_ _v2_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22v2%22.pdf`,
    );
    await res.arrayBuffer();
  });
});

describe("files: API document", () => {
  it("lists the files routes", async () => {
    const doc = await (await call("/openapi.json")).json<{ paths: Record<string, Record<string, unknown>> }>();
    for (const p of [
      "/v1/files",
      "/v1/files/{id}",
      "/v1/files/{id}/content",
      "/v1/files/uploads",
      "/v1/files/uploads/{uploadId}/parts/{n}",
      "/v1/files/uploads/{uploadId}/complete",
      "/v1/files/uploads/{uploadId}",
    ]) {
      expect(doc.paths[p], p).toBeTruthy();
    }
  });
});
