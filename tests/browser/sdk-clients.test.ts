import { join } from "node:path";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createClient, type MessageFrame, memoryStorage, ticketSocket } from "../../sdk/src/index";
import { browserForFile } from "./chromium";
import { api, registerUser, stack, tenantWithOwner } from "./helpers";

type U = Awaited<ReturnType<typeof registerUser>>;

/** An SDK client in Node: HTTP through Node's fetch, the socket with `ws` and a ticket. */
async function nodeClient(tenant: string, u: U) {
  const c = createClient({
    baseUrl: stack().url,
    tenant,
    storage: memoryStorage(),
    device: { id: `node-${u.userId}` },
    realtime: {
      opener: ticketSocket(WebSocket as unknown as Parameters<typeof ticketSocket>[0]),
      backoff: { baseMs: 20, maxMs: 200 },
    },
  });
  await c.auth.signIn({ identifier: u.username, password: u.password });
  const messages: MessageFrame[] = [];
  c.realtime.on("message", (m) => messages.push(m));
  return { c, messages };
}

async function until<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  ms = 10_000,
) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function groupOf(tenant: string, owner: U, members: U[]): Promise<string> {
  const res = await api<{ id: string }>("/v1/conversations", {
    tenant,
    token: owner.tokens.accessToken,
    json: { type: "group", name: "crew", memberIds: members.map((m) => m.userId) },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

const texts = (ms: MessageFrame[], gid: string) =>
  ms.filter((m) => m.conversationId === gid).map((m) => (m.body as { text?: string } | null)?.text);
const names = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `m${from + i}`);

describe("the SDK outside Workers", () => {
  it("in Node with ws: ticket sockets, and a client that was away gets what it missed, once", async () => {
    const { slug } = await tenantWithOwner();
    const [ua, ub] = [await registerUser(slug), await registerUser(slug)];
    const gid = await groupOf(slug, ua, [ub]);
    const a = await nodeClient(slug, ua);
    const b = await nodeClient(slug, ub);
    await b.c.realtime.track(gid);
    await Promise.all([a.c.realtime.connect(), b.c.realtime.connect()]);
    for (const i of names(1, 10)) await a.c.realtime.send(gid, { text: i });
    await until(() => texts(b.messages, gid).length >= 10, "the first ten");
    b.c.realtime.disconnect();
    for (const i of names(11, 20)) await a.c.realtime.send(gid, { text: i });
    await b.c.realtime.connect();
    await until(() => texts(b.messages, gid).length >= 20, "the missed ten");
    await new Promise((r) => setTimeout(r, 200));
    expect(texts(b.messages, gid)).toEqual(names(1, 20));
    a.c.realtime.disconnect();
    b.c.realtime.disconnect();
  });
});

describe("the SDK in Chromium", () => {
  const browser = browserForFile();
  let bundle: string;
  beforeAll(async () => {
    const out = await build({
      entryPoints: [join(process.cwd(), "sdk/src/index.ts")],
      bundle: true,
      format: "esm",
      target: "es2022",
      write: false,
    });
    bundle = out.outputFiles[0]?.text ?? "";
  });
  it("signs in, opens a ticket socket, and after a reload resumes from IndexedDB: tokens and cursors kept, nothing twice", async () => {
    const { slug } = await tenantWithOwner();
    const [ua, ub] = [await registerUser(slug), await registerUser(slug)];
    const gid = await groupOf(slug, ua, [ub]);
    const a = await nodeClient(slug, ua);
    await a.c.realtime.connect();

    const page = await browser().newPage();
    // The SDK loads into a page the Worker serves (its origin, so IndexedDB and same-origin calls
    // apply, under the console's CSP): its bundle is answered at a path of that origin.
    await page.route("**/console/sdk-under-test.js", (route) =>
      route.fulfill({ body: bundle, contentType: "text/javascript" }),
    );
    const open = async () => {
      await page.goto(`${stack().url}/console/`);
      // A string, so the test runner's transform leaves this page's import() alone.
      await page.evaluate(`import("/console/sdk-under-test.js").then((m) => { window.sdk = m; })`);
      await page.evaluate(
        async ({ slug, ub, gid }) => {
          const { createClient, indexedDbStorage } = (
            window as unknown as { sdk: typeof import("../../sdk/src/index") }
          ).sdk;
          const c = createClient({ baseUrl: location.origin, tenant: slug, storage: indexedDbStorage("canopy-test") });
          const got: string[] = [];
          (window as unknown as { got: string[] }).got = got;
          c.realtime.on("message", (m) => got.push((m.body as { text: string }).text));
          if (!(await c.auth.sessionId())) await c.auth.signIn({ identifier: ub.username, password: ub.password });
          await c.realtime.track(gid);
          await c.realtime.connect();
        },
        { slug, ub: { username: ub.username, password: ub.password }, gid },
      );
    };
    const got = () => page.evaluate(() => (window as unknown as { got: string[] }).got.slice());

    await open();
    for (const i of names(1, 5)) await a.c.realtime.send(gid, { text: i });
    await until(async () => (await got()).length >= 5, "the first five in the page");
    expect(await got()).toEqual(names(1, 5));

    await page.goto("about:blank");
    for (const i of names(6, 9)) await a.c.realtime.send(gid, { text: i });
    await open();
    await until(async () => (await got()).length >= 4, "the four sent while the page was gone");
    await new Promise((r) => setTimeout(r, 300));
    // Signed in from IndexedDB (no second sign-in) and resumed after m5: m6–m9, once each.
    expect(await got()).toEqual(names(6, 9));
    const sessions = await api<{ items: unknown[] }>("/v1/auth/sessions", {
      tenant: slug,
      token: ub.tokens.accessToken,
    });
    expect(sessions.body.items.length).toBe(2);
    a.c.realtime.disconnect();
  });
});
