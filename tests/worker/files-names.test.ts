import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { as, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";
import { group, type Frame } from "./socket-helpers";

// The inputs of a security probe: deceptive and executable file names, and markup the sniffer
// used to miss (docs/files.md, "File names" and "Purposes, types and sizes").

type U = Awaited<ReturnType<typeof registerUser>>;
interface FileJson {
  id: string;
  name: string;
  contentType: string;
  size: number;
  url: string;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const TEXT = utf8("quarterly numbers, nothing else\n");
const PDF = utf8("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");

function upload(t: string, u: U, bytes: Uint8Array, name: string, fields: Record<string, string> = {}) {
  const form = new FormData();
  form.set("file", new Blob([bytes], { type: "text/plain" }), name);
  form.set("purpose", "attachment");
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  return call("/v1/files", { method: "POST", ...as(t, u), body: form });
}

async function uploaded(
  t: string,
  u: U,
  bytes: Uint8Array,
  name: string,
  fields: Record<string, string> = {},
): Promise<FileJson> {
  const res = await upload(t, u, bytes, name, fields);
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

const download = (url: string) => exports.default.fetch(new Request(url));
const startUpload = (t: string, u: U, json: Record<string, unknown>) =>
  call("/v1/files/uploads", { method: "POST", ...as(t, u), json });

async function setup() {
  const t = (await createTenant()).slug;
  const [alice, bob] = [await registerUser(t), await registerUser(t)];
  return { t, alice, bob };
}

describe("file names", () => {
  it("bidirectional controls are removed from the stored name, the download and what conversation members see", async () => {
    const { t, alice, bob } = await setup();
    // Shown as "reportfdp.txt" by anything that honours the override.
    const f = await uploaded(t, alice, PDF, "report\u202Etxt.pdf");
    expect(f.name).toBe("reporttxt.pdf");
    const g = await uploaded(t, alice, TEXT, "x.pdf", {
      name: "\u2067notes\u2069\u200F \u061C\u200E(v2)\u202A.txt\u202C",
    });
    expect(g.name).toBe("notes (v2).txt");

    const res = await download(f.url);
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="reporttxt.pdf"; filename*=UTF-8''reporttxt.pdf`,
    );
    await res.arrayBuffer();

    const id = await group(t, alice, [bob]);
    const sent = await call(`/v1/conversations/${id}/messages`, {
      method: "POST",
      ...as(t, alice),
      json: { clientId: "n1", kind: "file", body: { fileId: f.id } },
    });
    expect(sent.status, await sent.clone().text()).toBe(201);
    expect((await sent.json<Frame>()).body).toMatchObject({ name: "reporttxt.pdf" });
    const seen = await call(`/v1/conversations/${id}/files/${f.id}`, as(t, bob));
    expect(await seen.json()).toMatchObject({ name: "reporttxt.pdf" });
  });

  it("executable and script extensions are refused with 415, whatever hides them", async () => {
    const { t, alice } = await setup();
    for (const name of [
      "invoice\u202Efdp.hta",
      "run.bat",
      "RUN.BAT",
      "setup.exe.",
      "a.ps1 ",
      "payload.js",
      "x.vbs",
      "x.lnk",
      "x.scr",
      "x.msi",
      "x.reg",
      "x.cmd",
      "x.wsf",
      "x.jse",
      "x.url",
      ".hta",
    ]) {
      const p = await expectProblem(await upload(t, alice, TEXT, name), 415, "unsupported_file_type");
      expect(p.detail, name).toMatch(/extension/);
    }
    // The `name` field is checked the same way, and so is a multipart upload, before any byte is sent.
    await expectProblem(
      await upload(t, alice, TEXT, "notes.txt", { name: "notes.txt.cmd" }),
      415,
      "unsupported_file_type",
    );
    await expectProblem(
      await startUpload(t, alice, { purpose: "attachment", name: "invoice\u202Efdp.hta", size: 100 }),
      415,
      "unsupported_file_type",
    );
    await expectProblem(
      await startUpload(t, alice, { purpose: "attachment", name: "run.bat", size: 100 }),
      415,
      "unsupported_file_type",
    );
    expect((await (await call("/v1/files", as(t, alice))).json<{ items: unknown[] }>()).items).toEqual([]);
    // A dangerous extension that is not the last one does nothing on any system: kept.
    expect((await uploaded(t, alice, TEXT, "run.bat.txt")).name).toBe("run.bat.txt");
  });

  it("trailing dots and spaces are trimmed, so evil.html. is an .html name", async () => {
    const { t, alice } = await setup();
    // Windows drops them when saving: "evil.html." would land on disk as evil.html.
    const p = await expectProblem(await upload(t, alice, TEXT, "evil.html."), 415, "unsupported_file_type");
    expect(p.detail).toContain("'evil.html'");
    await expectProblem(await upload(t, alice, TEXT, "evil.htm . ."), 415, "unsupported_file_type");
    expect((await uploaded(t, alice, TEXT, "notes.txt. . ")).name).toBe("notes.txt");
    expect((await uploaded(t, alice, TEXT, " ... ")).name).toBe("file");
  });
});

describe("markup in text files", () => {
  it("text that opens with markup is refused, self-closing and unlisted tags included", async () => {
    const { t, alice } = await setup();
    for (const body of [
      "<svg/onload=alert(1)>",
      "<img src=x onerror=alert(1)>",
      "\n  <script/src=//evil.example></script>",
      "<iframe/src=javascript:alert(1)>",
      "<body onload=alert(1)>",
      "<x onmouseover=alert(1)>hover</x>",
    ]) {
      await expectProblem(await upload(t, alice, utf8(body), "notes.txt"), 415, "unsupported_file_type");
    }
  });

  it("text with markup after the start is stored and served as application/octet-stream, attachment, nosniff", async () => {
    const { t, alice } = await setup();
    const f = await uploaded(t, alice, utf8("hello <img src=x onerror=alert(1)>"), "hello.txt");
    expect(f).toMatchObject({ name: "hello.txt", contentType: "application/octet-stream" });
    const res = await download(f.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="hello.txt"; filename*=UTF-8''hello.txt`);
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("sandbox");
    expect(await res.text()).toBe("hello <img src=x onerror=alert(1)>");
    // Plain text stays text/plain.
    const plain = await uploaded(t, alice, utf8("if (a < b && c > d) return; // 3 <4\n"), "snippet.txt");
    expect(plain.contentType).toBe("text/plain");
  });

  it("a multipart upload of text with markup may declare text/plain and completes as application/octet-stream", async () => {
    const { t, alice } = await setup();
    const body = utf8("# Readme\n\n<p align=center><img src=logo.png></p>\n");
    const up = await startUpload(t, alice, {
      purpose: "attachment",
      name: "README.md",
      size: body.length,
      contentType: "text/plain",
    });
    expect(up.status, await up.clone().text()).toBe(201);
    const { uploadId } = await up.json<{ uploadId: string }>();
    const part = await call(`/v1/files/uploads/${uploadId}/parts/1`, {
      method: "PUT",
      tenant: t,
      headers: { ...as(t, alice).headers, "content-type": "application/octet-stream" },
      body,
    });
    expect(part.status, await part.clone().text()).toBe(200);
    const done = await call(`/v1/files/uploads/${uploadId}/complete`, { method: "POST", ...as(t, alice) });
    expect(done.status, await done.clone().text()).toBe(201);
    const f = await done.json<FileJson>();
    expect(f).toMatchObject({ name: "README.md", contentType: "application/octet-stream" });
    const res = await download(f.url);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; /);
    await res.arrayBuffer();
  });
});
