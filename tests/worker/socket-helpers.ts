import { expect } from "vitest";
import { bearer } from "./auth-helpers";
import { call } from "./helpers";

export type Frame = { type: string; [k: string]: unknown };

/** A client socket through the Worker's own fetch; frames are collected as they arrive. */
export async function connect(t: string, auth: { token?: string; ticket?: string }, headers: Record<string, string> = {}) {
  const path = auth.ticket ? `/v1/realtime?ticket=${encodeURIComponent(auth.ticket)}` : "/v1/realtime";
  const res = await call(path, { tenant: t, headers: { upgrade: "websocket", ...(auth.token ? bearer(auth.token) : {}), ...headers } });
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
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(frames)} closed=${JSON.stringify(closedWith)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return {
    ws, frames,
    send: (f: unknown) => ws.send(typeof f === "string" ? f : JSON.stringify(f)),
    until,
    frame: (type: string, match: (f: Frame) => boolean = () => true) => until(() => frames.find((f) => f.type === type && match(f)), type),
    messages: (conversationId: string) => frames.filter((f) => f.type === "message" && f.conversationId === conversationId),
    closed: () => until(() => closedWith, "close"),
  };
}
export type Sock = Awaited<ReturnType<typeof connect>>;
