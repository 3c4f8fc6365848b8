import type { Auth } from "./auth.js";
import { CanopyError } from "./errors.js";
import type { components } from "./schema.gen.js";
import type { TokenStorage } from "./storage.js";
import type { Fetch } from "./transport.js";

/** A message as the server sends it (`message` frame; docs/realtime.md): the OpenAPI `Message` with its frame type. */
export type MessageFrame = NonNullable<components["schemas"]["Message"]> & { type: "message" };

export interface Ack {
  seq: number;
  messageId: string;
}

export type ConnectionState = "connecting" | "open" | "closed";

export interface RealtimeEvents {
  /** Every message of every conversation, each exactly once, in seq order per conversation. */
  message: MessageFrame;
  /** A send of this client was stored. */
  ack: Ack & { clientId: string; conversationId: string };
  read: { conversationId: string; userId: string; seq: number };
  typing: { conversationId: string; userId: string };
  presence: Record<string, unknown> & { type: string };
  notification: Record<string, unknown> & { type: string };
  /** The socket's state; `closed` with `final` when it will not reconnect (signed out, `disconnect()`). */
  connection: { state: ConnectionState; final?: boolean; reason?: string };
  /** Any other frame (edited, recalled, error frames without a pending send, …). */
  frame: Record<string, unknown> & { type: string };
}

/** The little of a WebSocket the client uses (the DOM's, `ws`'s and workerd's all fit). */
export interface SocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", fn: (e: { data: unknown }) => void): void;
  addEventListener(type: "close", fn: (e: { code: number; reason: string }) => void): void;
}

/**
 * Opens an authenticated socket to `/v1/realtime`: with the access token (Workers, servers:
 * `fetchUpgrade`) or with a one-time ticket (browsers, which cannot set headers: `ticketSocket`).
 * Resolves once the socket is open; rejects with a CanopyError when the server refuses.
 */
export type Opener = (ctx: {
  baseUrl: string;
  tenant: string;
  token: string;
  ticket: () => Promise<string>;
}) => Promise<SocketLike>;

/** Workers (and anything whose fetch answers an upgrade with `webSocket`): `Upgrade` + bearer through `fetch`. */
export function fetchUpgrade(fetch: Fetch): Opener {
  return async ({ baseUrl, token }) => {
    const res = await fetch(
      new Request(`${baseUrl}/v1/realtime`, { headers: { upgrade: "websocket", authorization: `Bearer ${token}` } }),
    );
    const ws = (res as Response & { webSocket?: (SocketLike & { accept(): void }) | null }).webSocket;
    if (res.status !== 101 || !ws) throw await CanopyError.from(res);
    ws.accept();
    return ws;
  };
}

type WebSocketCtor = new (
  url: string,
) => SocketLike & {
  addEventListener(type: "open" | "error", fn: () => void): void;
};

/**
 * Browsers and Node 20+ (pass `ws`'s constructor): a ticket from `POST /v1/realtime/tickets`, then
 * `new WebSocket(wss://…/v1/realtime?ticket=…&tenant=…)`: a browser's socket cannot send X-Tenant,
 * so the tenant rides in the URL (a host `<tenant>.<base domain>` names it too).
 */
export function ticketSocket(WebSocket: WebSocketCtor): Opener {
  return async ({ baseUrl, tenant, ticket }) => {
    const query = `ticket=${encodeURIComponent(await ticket())}&tenant=${encodeURIComponent(tenant)}`;
    const url = `${baseUrl.replace(/^http/, "ws")}/v1/realtime?${query}`;
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener("open", () => resolve());
      ws.addEventListener("error", () => reject(new CanopyError(0, "network_error", "The socket did not open.", null)));
    });
    return ws;
  };
}

export interface RealtimeOptions {
  opener: Opener;
  /**
   * Frames this client sends per second at most (default 20, the server's default
   * `realtime.framesPerSecond`): frames past it wait their turn here rather than be refused by
   * the server (`rate_limited`, retried after its `retryAfterMs`).
   */
  framesPerSecond?: number;
  /** Reconnect backoff: first delay and cap in ms (full jitter); default 250 and 10,000. */
  backoff?: { baseMs?: number; maxMs?: number };
}

interface Pending {
  clientId: string;
  conversationId: string;
  kind: string;
  body: unknown;
}

type Listener<K extends keyof RealtimeEvents> = (e: RealtimeEvents[K]) => void;

const CURSORS = "realtime:cursors";
const OUTBOX = "realtime:outbox";
const REVOKED = 4001;

/**
 * The realtime connection: opens the socket, resumes with the per-conversation cursors it
 * persists (so the app sees each message once, in order, across reconnects and restarts),
 * queues sends while offline (persisted, each with its clientId; the server acks a retried
 * clientId with the original message), and reconnects with jittered backoff until
 * {@link disconnect} or the session ends.
 */
export class Realtime {
  private socket: SocketLike | null = null;
  private opening = false;
  private wanted = false;
  private synced = false;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private cursors: Promise<Record<string, number>> | undefined;
  private outbox: Promise<Pending[]> | undefined;
  /** Seqs of this client's own acked sends not yet passed by the cursor: a sync sends them as messages. */
  private readonly own = new Set<string>();
  private readonly waiting = new Map<string, { resolve(a: Ack): void; reject(e: unknown): void }>();
  private readonly listeners = new Map<keyof RealtimeEvents, Set<Listener<never>>>();
  /** Frames are handled one after another, in arrival order (storage may be asynchronous). */
  private chain: Promise<void> = Promise.resolve();
  /** `synced` answers still due for the current socket's resume. */
  private unsynced = 0;
  /** Frames waiting for the rate (see RealtimeOptions.framesPerSecond), and when the last ones went out. */
  private out: string[] = [];
  private sentAt: number[] = [];
  private pump: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly auth: Auth,
    private readonly storage: TokenStorage,
    private readonly base: {
      baseUrl: string;
      tenant: string;
      ticket: () => Promise<string>;
      /** A signed-in GET of one of the API's paths, its JSON (a CanopyError when refused). */
      fetchJson: (path: string) => Promise<unknown>;
    },
    private readonly options: RealtimeOptions,
  ) {
    auth.on("signedOut", () => this.stop("signed out"));
  }

  on<K extends keyof RealtimeEvents>(event: K, fn: Listener<K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as Listener<never>);
    return () => set.delete(fn as Listener<never>);
  }

  /** Opens the connection (and keeps it open); resolves when the first socket is open or fails. */
  async connect(): Promise<void> {
    this.wanted = true;
    if (this.socket || this.timer || this.opening) return;
    await this.open();
  }

  /** Closes the connection and stops reconnecting; queued sends stay queued for the next connect. */
  disconnect(): void {
    this.stop("disconnect");
  }

  get state(): ConnectionState {
    if (this.socket) return this.synced ? "open" : "connecting";
    return this.timer || this.opening ? "connecting" : "closed";
  }

  /**
   * Sends a message (`kind` text by default: `{ text }`); resolves with the server's ack. While
   * offline the send waits in a persisted queue and goes out after the next resume.
   */
  async send(conversationId: string, body: unknown, opts: { kind?: string; clientId?: string } = {}): Promise<Ack> {
    const p: Pending = {
      clientId: opts.clientId ?? crypto.randomUUID(),
      conversationId,
      kind: opts.kind ?? "text",
      body,
    };
    const outbox = await this.queue();
    outbox.push(p);
    await this.saveOutbox();
    const acked = new Promise<Ack>((resolve, reject) => this.waiting.set(p.clientId, { resolve, reject }));
    if (this.synced) this.write(p);
    return acked;
  }

  /** Moves this user's read cursor in a conversation (members see a `read` frame). */
  read(conversationId: string, seq: number): void {
    this.transmit({ type: "read", conversationId, seq });
  }

  typing(conversationId: string): void {
    this.transmit({ type: "typing", conversationId });
  }

  /**
   * Adds a conversation to what resumes ask after, from `afterSeq` (e.g. the last message the
   * app loaded over HTTP). A conversation joins by itself with its first message on the socket.
   */
  async track(conversationId: string, afterSeq = 0): Promise<void> {
    const cursors = await this.loadCursors();
    if ((cursors[conversationId] ?? -1) >= afterSeq) return;
    cursors[conversationId] = afterSeq;
    await this.storage.set(CURSORS, JSON.stringify(cursors));
    if (this.socket) this.transmit({ type: "sync", cursors: { [conversationId]: afterSeq } });
  }

  /** The last seq seen per conversation (what the next resume asks after). */
  async lastSeen(): Promise<Record<string, number>> {
    return { ...(await this.loadCursors()) };
  }

  private emit<K extends keyof RealtimeEvents>(event: K, e: RealtimeEvents[K]): void {
    for (const fn of this.listeners.get(event) ?? []) (fn as Listener<K>)(e);
  }

  private async open(): Promise<void> {
    this.timer = null;
    this.opening = true;
    try {
      await this.openSocket();
    } finally {
      this.opening = false;
    }
  }

  private async openSocket(): Promise<void> {
    this.emit("connection", { state: "connecting" });
    let socket: SocketLike;
    try {
      const token = await this.auth.token();
      if (!token) return this.stop("signed out");
      try {
        socket = await this.options.opener({ ...this.base, token });
      } catch (err) {
        // A refused token (expired, rotated): one refresh, then the next attempt uses it.
        if (err instanceof CanopyError && err.status === 401 && !(await this.auth.recover(token)))
          return this.stop("signed out");
        throw err;
      }
    } catch {
      return this.retry();
    }
    if (!this.wanted) return socket.close(1000, "disconnect");
    this.socket = socket;
    this.synced = false;
    this.out = [];
    this.sentAt = []; // the server counts per socket
    socket.addEventListener("message", (e) => {
      this.chain = this.chain.then(() => this.receive(socket, e.data)).catch(() => undefined);
    });
    socket.addEventListener("close", (e) => this.closed(socket, e.code, e.reason));
    // Resume: the cursors in frames of at most 100 conversations (the server's cap), one `synced` each.
    const entries = Object.entries(await this.loadCursors());
    const frames: Record<string, number>[] = [];
    for (let i = 0; i < entries.length; i += 100) frames.push(Object.fromEntries(entries.slice(i, i + 100)));
    if (!frames.length) frames.push({});
    this.unsynced = frames.length;
    for (const cursors of frames) this.transmit({ type: "sync", cursors });
  }

  private retry(): void {
    if (!this.wanted) return;
    const base = this.options.backoff?.baseMs ?? 250;
    const max = this.options.backoff?.maxMs ?? 10_000;
    const delay = Math.random() * Math.min(max, base * 2 ** this.attempt++);
    this.emit("connection", { state: "closed" });
    this.timer = setTimeout(() => void this.open(), delay);
  }

  private stop(reason: string): void {
    const running = this.wanted || this.socket !== null || this.timer !== null;
    this.wanted = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const s = this.socket;
    this.socket = null;
    this.synced = false;
    s?.close(1000, reason);
    if (running) this.emit("connection", { state: "closed", final: true, reason });
  }

  private closed(socket: SocketLike, code: number, reason: string): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.synced = false;
    if (code === REVOKED) {
      // The session ended on the server: a refresh confirms it and signs out (one signedOut).
      void this.auth.refresh().then(
        (alive) => (alive && this.wanted ? this.retry() : this.stop(reason || "revoked")),
        () => this.retry(),
      );
      return;
    }
    this.retry();
  }

  private abandon(socket: SocketLike): void {
    if (this.socket !== socket) return;
    this.socket = null;
    this.synced = false;
    socket.close(4000, "resume failed");
    this.retry();
  }

  private async receive(socket: SocketLike, data: unknown): Promise<void> {
    if (this.socket !== socket || typeof data !== "string") return;
    let f: Record<string, unknown> & { type: string };
    try {
      f = JSON.parse(data) as typeof f;
    } catch {
      return;
    }
    switch (f.type) {
      case "message":
        return this.message(f as unknown as MessageFrame);
      case "synced":
        if (this.synced || --this.unsynced > 0) return;
        this.synced = true;
        this.attempt = 0;
        this.emit("connection", { state: "open" });
        for (const p of await this.queue()) this.write(p);
        return;
      case "sync_truncated":
        try {
          await this.page(f as unknown as { conversationId: string; fromSeq: number; latestSeq: number });
        } catch {
          // The gap could not be paged: this socket's later frames must not move the cursor past
          // it, so the socket is given up and the next one resumes from the same cursor.
          this.abandon(socket);
        }
        return;
      case "ack":
        return this.acked(f as unknown as Ack & { clientId: string; conversationId: string });
      case "error":
        return this.refused(
          f as unknown as { code: string; message: string; clientId?: string; retryAfterMs?: number },
        );
      case "read":
      case "typing":
        return this.emit(f.type, f as never);
      default:
        if (f.type.startsWith("presence")) return this.emit("presence", f);
        if (f.type.startsWith("notification")) return this.emit("notification", f);
        return this.emit("frame", f);
    }
  }

  private async message(m: MessageFrame): Promise<void> {
    const cursors = await this.loadCursors();
    const last = cursors[m.conversationId] ?? 0;
    if (m.seq <= last) return; // already seen (a resume overlapping live traffic)
    cursors[m.conversationId] = m.seq;
    await this.storage.set(CURSORS, JSON.stringify(cursors));
    const key = `${m.conversationId}:${m.seq}`;
    if (this.own.delete(key)) return; // this client's own send, already answered by its ack
    this.emit("message", m);
  }

  /** Too far behind for a sync: pages the missed messages over HTTP, then live traffic follows. */
  private async page(t: { conversationId: string; fromSeq: number; latestSeq: number }): Promise<void> {
    let after = t.fromSeq - 1;
    while (after < t.latestSeq) {
      const res = await this.base.fetchJson(
        `/v1/conversations/${encodeURIComponent(t.conversationId)}/messages?after=${after}&limit=100`,
      );
      const items = (res as { items: Omit<MessageFrame, "type">[] }).items;
      if (!items.length) break;
      for (const m of items) if (m.seq <= t.latestSeq) await this.message({ type: "message", ...m });
      after = items[items.length - 1]!.seq;
    }
  }

  private async acked(a: Ack & { clientId: string; conversationId: string }): Promise<void> {
    const outbox = await this.queue();
    const i = outbox.findIndex((p) => p.clientId === a.clientId);
    if (i >= 0) outbox.splice(i, 1);
    await this.saveOutbox();
    const cursor = (await this.loadCursors())[a.conversationId] ?? 0;
    if (a.seq > cursor) this.own.add(`${a.conversationId}:${a.seq}`);
    if (this.own.size > 1000) this.own.delete(this.own.values().next().value!); // bounded: the oldest go first
    this.waiting.get(a.clientId)?.resolve({ seq: a.seq, messageId: a.messageId });
    this.waiting.delete(a.clientId);
    this.emit("ack", a);
  }

  private async refused(e: { code: string; message: string; clientId?: string; retryAfterMs?: number }): Promise<void> {
    const p = e.clientId ? (await this.queue()).find((x) => x.clientId === e.clientId) : undefined;
    if (!p) return this.emit("frame", { type: "error", ...e });
    if (e.code === "rate_limited" || e.code === "temporarily_unavailable") {
      // Over the socket's frame budget, or the server could not serve it now: the send stays
      // queued and goes again when the server says (a second when it does not say).
      const wait = Math.min(10_000, Math.max(0, e.retryAfterMs ?? 1000));
      setTimeout(() => this.synced && this.write(p), wait);
      return;
    }
    const outbox = await this.queue();
    outbox.splice(outbox.indexOf(p), 1);
    await this.saveOutbox();
    this.waiting.get(p.clientId)?.reject(new CanopyError(0, e.code as CanopyError["code"], e.message, null));
    this.waiting.delete(p.clientId);
  }

  private write(p: Pending): void {
    this.transmit({ type: "send", clientId: p.clientId, conversationId: p.conversationId, kind: p.kind, body: p.body });
  }

  /** Sends a frame on the current socket, at most `framesPerSecond` in any second (a sliding window). */
  private transmit(frame: Record<string, unknown>): void {
    if (!this.socket) return; // sends stay in the outbox; typing and read are moot offline
    this.out.push(JSON.stringify(frame));
    this.drain();
  }

  private drain(): void {
    const socket = this.socket;
    const fps = this.options.framesPerSecond ?? 20;
    while (socket && this.out.length) {
      const now = Date.now();
      // 1.1 s rather than 1: the server's second starts when a frame arrives, a little later.
      while (this.sentAt.length && now - this.sentAt[0]! >= 1100) this.sentAt.shift();
      if (this.sentAt.length >= fps) {
        this.pump ??= setTimeout(
          () => {
            this.pump = null;
            this.drain();
          },
          1100 - (now - this.sentAt[0]!),
        );
        return;
      }
      this.sentAt.push(now);
      socket.send(this.out.shift()!);
    }
  }

  /** Read from storage once; concurrent first callers share the read (and so the same object). */
  private loadCursors(): Promise<Record<string, number>> {
    this.cursors ??= Promise.resolve(this.storage.get(CURSORS)).then((raw) =>
      raw ? (JSON.parse(raw) as Record<string, number>) : {},
    );
    return this.cursors;
  }

  private queue(): Promise<Pending[]> {
    this.outbox ??= Promise.resolve(this.storage.get(OUTBOX)).then((raw) =>
      raw ? (JSON.parse(raw) as Pending[]) : [],
    );
    return this.outbox;
  }

  private async saveOutbox(): Promise<void> {
    await this.storage.set(OUTBOX, JSON.stringify(await this.queue()));
  }
}
