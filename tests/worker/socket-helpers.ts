import { expect } from "vitest";
import { bearer } from "./auth-helpers";
import { call } from "./helpers";

export type Frame = { type: string; [k: string]: unknown };

/** A client socket through the Worker's own fetch; frames are collected as they arrive. */
export async function connect(
  t: string,
  auth: { token?: string; ticket?: string },
  headers: Record<string, string> = {},
) {
  const path = auth.ticket ? `/v1/realtime?ticket=${encodeURIComponent(auth.ticket)}` : "/v1/realtime";
  const res = await call(path, {
    tenant: t,
    headers: { upgrade: "websocket", ...(auth.token ? bearer(auth.token) : {}), ...headers },
  });
  expect(res.status, res.status === 101 ? "" : await res.text()).toBe(101);
  const ws = res.webSocket!;
  const frames: Frame[] = [];
  let closedWith: { code: number; reason: string } | undefined;
  ws.addEventListener("message", (e) => {
    frames.push(JSON.parse(e.data as string) as Frame);
  });
  ws.addEventListener("close", (e) => {
    closedWith = { code: e.code, reason: e.reason };
  });
  ws.accept();
  const until = async <T>(probe: () => T | undefined | false, what = "a frame", ms = 5000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const v = probe();
      if (v) return v;
      if (Date.now() > end)
        throw new Error(
          `timed out waiting for ${what}; got ${JSON.stringify(frames)} closed=${JSON.stringify(closedWith)}`,
        );
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return {
    ws,
    frames,
    send: (f: unknown) => ws.send(typeof f === "string" ? f : JSON.stringify(f)),
    until,
    frame: (type: string, match: (f: Frame) => boolean = () => true) =>
      until(() => frames.find((f) => f.type === type && match(f)), type),
    messages: (conversationId: string) =>
      frames.filter((f) => f.type === "message" && f.conversationId === conversationId),
    closed: () => until(() => closedWith, "close"),
    /** How the socket closed, if it has (without waiting). */
    closeInfo: () => closedWith,
  };
}
export type Sock = Awaited<ReturnType<typeof connect>>;

type User = { userId: string; tokens: { accessToken: string } };

/** Creates a group owned by `owner` with `members`; returns its id. */
export async function group(t: string, owner: User, members: User[], name = "crew"): Promise<string> {
  const res = await call("/v1/conversations", {
    method: "POST",
    tenant: t,
    headers: bearer(owner.tokens.accessToken),
    json: { type: "group", name, memberIds: members.map((m) => m.userId) },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<{ id: string }>()).id;
}

/** Resolves once `s` got `n` frames of `type` (counting from the start of the socket). */
export const nth = (s: Sock, type: string, n: number) =>
  s.until(
    () => s.frames.filter((f) => f.type === type).length >= n && s.frames.filter((f) => f.type === type)[n - 1],
    `${n} × ${type}`,
  );

/**
 * The marker for "nothing else arrived": `reader` marks `seq` read over HTTP, and each socket
 * in `socks` waits for the `read` frame it causes. A conversation delivers to each member's hub
 * through one ordered chain (src/durable/conversation/fanout.ts), and a hub never holds `read`
 * frames back, so once a socket has the frame, every frame the conversation sent that member
 * before it has been written to the socket: a check made then cannot pass merely because a
 * wrong frame is still on its way. `seq` must be past the reader's read cursor (or no frame goes out).
 */
export async function readMarker(t: string, reader: User, conversationId: string, seq: number, socks: Sock[]) {
  const res = await call(`/v1/conversations/${conversationId}/read`, {
    method: "POST",
    tenant: t,
    headers: bearer(reader.tokens.accessToken),
    json: { seq },
  });
  expect(res.status, await res.clone().text()).toBe(200);
  await Promise.all(
    socks.map((s) =>
      s.until(
        () =>
          s.frames.find(
            (f) =>
              f.type === "read" && f.conversationId === conversationId && f.userId === reader.userId && f.seq === seq,
          ),
        `the read marker (${reader.userId} at ${seq})`,
      ),
    ),
  );
}
