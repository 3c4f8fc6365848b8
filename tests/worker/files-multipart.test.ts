import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fromBase64url } from "../../src/lib/ids";
import { bearer, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";

const MiB = 1024 * 1024;
const PNG = fromBase64url(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg",
);
const PDF = new TextEncoder().encode("%PDF-1.7\n%%EOF\n");
const ZIP = new Uint8Array([0x50, 0x4b, 0x05, 0x06, ...new Array(18).fill(0)]);

interface Upload {
  uploadId: string;
  partSize: number;
  partCount: number;
}
interface FileJson {
  id: string;
  size: number;
  contentType: string;
  name: string;
  sha256: string | null;
  url: string;
}

async function setup() {
  const t = await createTenant();
  const [alice, bob] = await Promise.all([registerUser(t.slug), registerUser(t.slug)]);
  const as = (u: { tokens: { accessToken: string } }) => ({
    start: (json: Record<string, unknown>) =>
      call("/v1/files/uploads", { method: "POST", tenant: t.slug, json, headers: bearer(u.tokens.accessToken) }),
    part: (id: string, n: number | string, body: Uint8Array) =>
      call(`/v1/files/uploads/${id}/parts/${n}`, {
        method: "PUT",
        tenant: t.slug,
        body,
        headers: { ...bearer(u.tokens.accessToken), "content-type": "application/octet-stream" },
      }),
    complete: (id: string) =>
      call(`/v1/files/uploads/${id}/complete`, {
        method: "POST",
        tenant: t.slug,
        headers: bearer(u.tokens.accessToken),
      }),
    abort: (id: string) =>
      call(`/v1/files/uploads/${id}`, { method: "DELETE", tenant: t.slug, headers: bearer(u.tokens.accessToken) }),
    get: (id: string) => call(`/v1/files/${id}`, { tenant: t.slug, headers: bearer(u.tokens.accessToken) }),
  });
  return { t, alice: as(alice), bob: as(bob) };
}

async function started(res: Response): Promise<Upload> {
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

const hex = async (data: Uint8Array | ArrayBuffer) =>
  [...new Uint8Array(await crypto.subtle.digest("SHA-256", data))].map((b) => b.toString(16).padStart(2, "0")).join("");

describe("files: multipart uploads", () => {
  it("upload a file in two parts (R2's 5 MiB minimum), in any order, then serve it", async () => {
    const { alice } = await setup();
    // 5 MiB + 1000 bytes: R2 (and Miniflare) require every part but the last to be ≥ 5 MiB.
    const data = new Uint8Array(5 * MiB + 1000);
    for (let i = 0; i < data.length; i += 4096) data[i] = i % 251;
    data.set(PNG.subarray(0, 16));
    const up = await started(
      await alice.start({ purpose: "attachment", name: "big.png", size: data.length, contentType: "image/png" }),
    );
    expect(up).toMatchObject({ partSize: 5 * MiB, partCount: 2 });

    await expectProblem(await alice.complete(up.uploadId), 409, "upload_incomplete");
    expect((await alice.part(up.uploadId, 2, data.subarray(5 * MiB))).status).toBe(200);
    await expectProblem(await alice.complete(up.uploadId), 409, "upload_incomplete");
    // Not visible as a file until completed.
    await expectProblem(await alice.get(up.uploadId), 404, "file_not_found");
    const p1 = await alice.part(up.uploadId, 1, data.subarray(0, 5 * MiB));
    expect(await p1.json()).toEqual({ partNumber: 1, size: 5 * MiB });

    const done = await alice.complete(up.uploadId);
    expect(done.status, await done.clone().text()).toBe(201);
    const f = await done.json<FileJson>();
    expect(f).toMatchObject({
      id: up.uploadId,
      size: data.length,
      contentType: "image/png",
      name: "big.png",
      sha256: null,
    });
    expect((await alice.get(f.id)).status).toBe(200);

    const edge = await exports.default.fetch(
      new Request(f.url, { headers: { range: `bytes=${5 * MiB - 2}-${5 * MiB + 1}` } }),
    );
    expect(edge.status).toBe(206);
    expect(new Uint8Array(await edge.arrayBuffer())).toEqual(data.subarray(5 * MiB - 2, 5 * MiB + 2));
    const whole = await exports.default.fetch(new Request(f.url));
    expect(whole.headers.get("content-length")).toBe(String(data.length));
    expect(await hex(await whole.arrayBuffer())).toBe(await hex(data));
    // Completed uploads are closed.
    await expectProblem(await alice.complete(up.uploadId), 404, "upload_not_found");
    await expectProblem(await alice.part(up.uploadId, 2, data.subarray(5 * MiB)), 404, "upload_not_found");
  });

  it("check part numbers and exact part sizes", async () => {
    const { alice } = await setup();
    const up = await started(await alice.start({ purpose: "attachment", name: "doc.pdf", size: 100 }));
    expect(up).toMatchObject({ partCount: 1 });
    const body = new Uint8Array(100).fill(0x20);
    body.set(PDF);
    await expectProblem(await alice.part(up.uploadId, 2, body), 400, "invalid_part_number");
    await expectProblem(await alice.part(up.uploadId, 0, body), 400, "validation_failed");
    await expectProblem(await alice.part(up.uploadId, "x", body), 400, "validation_failed");
    await expectProblem(await alice.part(up.uploadId, 1, body.subarray(0, 99)), 400, "part_size_mismatch");
    await expectProblem(await alice.part(up.uploadId, 1, new Uint8Array(101).fill(0x20)), 413, "part_too_large");
    expect((await alice.part(up.uploadId, 1, body)).status).toBe(200);
    const f = await (await alice.complete(up.uploadId)).json<FileJson>();
    expect(f).toMatchObject({ size: 100, contentType: "application/pdf" });
  });

  it("sniff the type from part 1 and refuse what the purpose or the declaration rules out", async () => {
    const { alice } = await setup();
    const declared = await started(
      await alice.start({ purpose: "attachment", name: "pic", size: PDF.length, contentType: "image/png" }),
    );
    await expectProblem(await alice.part(declared.uploadId, 1, PDF), 415, "unsupported_file_type");
    const named = await started(await alice.start({ purpose: "attachment", name: "pic.png", size: ZIP.length }));
    await expectProblem(await alice.part(named.uploadId, 1, ZIP), 415, "unsupported_file_type");
    const avatar = await started(await alice.start({ purpose: "avatar", name: "me", size: PDF.length }));
    await expectProblem(await alice.part(avatar.uploadId, 1, PDF), 415, "unsupported_file_type");
    // A part that failed its check was not stored: the upload cannot complete.
    await expectProblem(await alice.complete(avatar.uploadId), 409, "upload_incomplete");
    await expectProblem(
      await alice.start({ purpose: "avatar", name: "me.pdf", size: 10, contentType: "application/pdf" }),
      415,
      "unsupported_file_type",
    );
  });

  it("refuse sizes over the purpose's or tenant's limit when the upload starts", async () => {
    const { alice } = await setup();
    await expectProblem(
      await alice.start({ purpose: "attachment", name: "a.zip", size: 10 * MiB + 1 }),
      413,
      "file_too_large",
    );
    await expectProblem(
      await alice.start({ purpose: "avatar", name: "a.png", size: 2 * MiB + 1 }),
      413,
      "file_too_large",
    );
    await expectProblem(await alice.start({ purpose: "attachment", name: "a.zip", size: 0 }), 400, "validation_failed");
    await expectProblem(await alice.start({ purpose: "nope", name: "a.zip", size: 10 }), 400, "validation_failed");
  });

  it("abort: parts are dropped and the upload id is gone; other users cannot touch an upload", async () => {
    const { t, alice, bob } = await setup();
    const up = await started(await alice.start({ purpose: "attachment", name: "a.zip", size: ZIP.length }));
    await expectProblem(await bob.part(up.uploadId, 1, ZIP), 404, "upload_not_found");
    await expectProblem(await bob.complete(up.uploadId), 404, "upload_not_found");
    await expectProblem(await bob.abort(up.uploadId), 404, "upload_not_found");
    expect((await alice.part(up.uploadId, 1, ZIP)).status).toBe(200);
    expect((await alice.abort(up.uploadId)).status).toBe(204);
    await expectProblem(await alice.part(up.uploadId, 1, ZIP), 404, "upload_not_found");
    await expectProblem(await alice.complete(up.uploadId), 404, "upload_not_found");
    await expectProblem(await alice.abort(up.uploadId), 404, "upload_not_found");
    await expectProblem(await alice.get(up.uploadId), 404, "file_not_found");
    await expectProblem(await alice.abort("unknown"), 404, "upload_not_found");
    // Nothing was written under the key.
    const { env } = await import("cloudflare:test");
    expect(await env.FILES.head(`t/${t.id}/files/${up.uploadId}`)).toBeNull();
  });
});
