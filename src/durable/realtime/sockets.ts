import { errorRegistry, type ErrorCode } from "../../lib/error-codes";
import { CLOSE, FRAME_BURST, FRAMES_PER_SECOND, MAX_FRAME_BYTES, type ServerFrame } from "../protocol/frames";
import type { PresenceFrame } from "../protocol/presence";
import type { DeliveryOptions } from "../protocol/delivery";
import { Memberships } from "./memberships";
import { handleFrame, parseFrame, type FrameContext } from "./frame-handler";
import { fullBucket, takeFrame } from "./frame-bucket";
import {
  connTag,
  GATEWAY_HEADERS,
  type Held,
  type SocketAttachment,
  type SocketState,
  sessionTag,
  userTag,
} from "./types";
import { conversationStub, type HubStub, hubStub } from "../protocol/stubs";
import { Vouches } from "./vouches";
import { SocketIndex } from "./socket-index";
import { metrics } from "../../lib/metrics/recorder";
import { flushTelemetrySoon } from "../protocol/metrics-sink";
import { configureTelemetry, samplerRatio } from "../../lib/telemetry";
import { continueTrace } from "../../lib/tracing/spans";

/** How many recently delivered seqs per socket and conversation are remembered to de-duplicate a sync. */
const RECENT_MAX = 256;
/**
 * How long a new socket's live conversation frames wait for its first client frame. A resuming
 * device sends `sync` first: what it missed then arrives before anything newer, in seq order.
 */
export const OPENING_HOLD_MS = 1000;
/**
 * How often a socket's frames have the user's hub check its session (and keep it from idling
 * out). Revocation does not wait for it: the hub closes a revoked session's sockets at once.
 */
export const SESSION_CHECK_MS = 60_000;
/** Users whose memberships a gateway remembers (in memory; a woken gateway learns them again). */
const USERS_MAX = 10_000;

type Attachment = SocketAttachment["rt"];

const problem = (code: ErrorCode, detail: string) =>
  Response.json({ code, detail }, { status: errorRegistry[code].status });

/**
 * The sockets of every user the tenant's hash sends to one gateway, terminated with the
 * hibernation API (all devices of a user land on the same gateway). Frames go to the
 * conversations; conversations deliver back with one `deliver` per gateway naming the members.
 * The user's hub keeps sessions, presence and the connection log: it hears of every open and
 * close, and closes a revoked session's sockets here. In-memory state (budgets, sync bookkeeping)
 * may be lost when the object hibernates; nothing that must survive lives there.
 */
export class GatewaySockets {
  private readonly states = new Map<WebSocket, SocketState>();
  /** Sockets already closed: late deliveries and sync answers must not bring their state back. */
  private readonly gone = new WeakSet<WebSocket>();
  private readonly memberships = new Map<string, Memberships>();
  /** Relations kept for direct sends, per user (vouches.ts). */
  private readonly vouches = new Vouches();
  /** The sockets by user and their attachments, in memory (socket-index.ts). */
  private readonly index: SocketIndex;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
  ) {
    configureTelemetry(env); // this object records socket metrics
    this.index = new SocketIndex(ctx);
    // Answered by the runtime without waking a hibernated gateway.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  private hub(att: Attachment): HubStub {
    return hubStub(this.env, att.tenantId, att.userId);
  }

  private membershipsOf(att: Attachment): Memberships {
    let m = this.memberships.get(att.userId);
    if (!m) {
      if (this.memberships.size >= USERS_MAX) this.memberships.clear();
      this.memberships.set(att.userId, (m = new Memberships(this.env, att.tenantId, att.userId)));
    }
    return m;
  }

  /**
   * Accepts an upgrade the Worker authenticated and the user's hub admitted (session live,
   * ticket spent): the identity comes from headers the Worker set itself. The hub then hears of
   * the socket, answers the presence snapshot, and closes it if the session ended meanwhile.
   */
  upgrade(req: Request, now = Date.now()): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return problem("upgrade_required", "Expected a WebSocket upgrade.");
    const h = (k: keyof typeof GATEWAY_HEADERS) => req.headers.get(GATEWAY_HEADERS[k]);
    const [tenantId, userId, sessionId] = [h("tenant"), h("user"), h("session")];
    if (!tenantId || !userId || !sessionId) return problem("unauthenticated", "Sign in again.");
    const pair = new WebSocketPair();
    const ws = pair[1];
    const connId = crypto.randomUUID();
    this.ctx.acceptWebSocket(ws, [userTag(userId), sessionTag(userId, sessionId), connTag(connId)]);
    const att: Attachment = {
      tenantId,
      userId,
      sessionId,
      deviceId: h("device") || null,
      connId,
      framesPerSecond: Number(h("framesPerSecond")) || FRAMES_PER_SECOND,
      frameBurst: Number(h("frameBurst")) || FRAME_BURST,
      maxFrameBytes: Number(h("maxFrameBytes")) || MAX_FRAME_BYTES,
    };
    ws.serializeAttachment({ rt: att } satisfies SocketAttachment);
    this.index.add(ws, att);
    const state = this.state(ws)!;
    state.checkedAt = now;
    state.opening = { queue: [], timer: setTimeout(() => this.opened(ws), OPENING_HOLD_MS) };
    const gateway = Number(h("index")) || 0;
    const announced: Promise<void> = this.announce(ws, att, gateway).finally(() => {
      if (state.announced === announced) state.announced = null;
    });
    state.announced = announced;
    this.ctx.waitUntil(announced);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /**
   * Tells the hub a socket opened: it logs it, derives presence, and answers the snapshot. A
   * socket the hub could not log is closed (1013, try again): revocation and tenant closes find
   * sockets through that log, so none may stay open outside it.
   */
  private async announce(ws: WebSocket, att: Attachment, gateway: number): Promise<void> {
    const { connId, sessionId, tenantId } = att;
    try {
      const r = await this.hub(att).socketOpened({ connId, sessionId, tenantId, gateway });
      if (!r.ok) return this.end(ws, r.code);
      if (!this.gone.has(ws)) this.sendTo(ws, JSON.stringify({ type: "presence_snapshot", friends: r.value.friends }));
    } catch (err) {
      console.error(JSON.stringify({ msg: "socket open not recorded", connId, error: String(err) }));
      this.drop(ws, CLOSE.retry, "try again");
    }
  }

  /** Runs a call to the hub about this socket after its `socketOpened` (calls may otherwise overtake it). */
  private afterAnnounce(ws: WebSocket, call: () => Promise<unknown>): Promise<void> {
    const pending = this.states.get(ws)?.announced ?? Promise.resolve();
    return pending.then(call).then(
      () => undefined,
      (err: unknown) => console.error(JSON.stringify({ msg: "hub call failed", error: String(err) })),
    );
  }

  /**
   * Whether the socket's session is still live: the hub is asked at most every SESSION_CHECK_MS,
   * one check at a time; frames arriving meanwhile wait for it and go on in the order they came.
   */
  private async sessionOk(state: SocketState, att: Attachment, now: number): Promise<boolean> {
    if (!state.checking && now - state.checkedAt >= SESSION_CHECK_MS) {
      const checking = this.hub(att)
        .check(att.sessionId, now)
        .then((r) => {
          if (r.ok) state.checkedAt = now;
          return r.ok;
        })
        .finally(() => {
          if (state.checking === checking) state.checking = null;
        });
      state.checking = checking;
    }
    return state.checking ?? true;
  }

  /** One client frame: size and rate caps first, then validation, then the frame's handler. */
  async message(ws: WebSocket, raw: string | ArrayBuffer, now = Date.now()): Promise<void> {
    const att = this.index.attachment(ws);
    if (!att) return ws.close(CLOSE.policy, "unknown connection");
    const bytes =
      typeof raw === "string"
        ? raw.length * 3 <= att.maxFrameBytes
          ? raw.length
          : new TextEncoder().encode(raw).length
        : raw.byteLength;
    if (bytes > att.maxFrameBytes) return ws.close(CLOSE.tooLarge, `frames are limited to ${att.maxFrameBytes} bytes`);
    const state = this.state(ws);
    if (!state) return;
    const taken = takeFrame((state.rate ??= fullBucket(att.frameBurst, now)), att.framesPerSecond, att.frameBurst, now);
    if (!taken.ok) {
      if (taken.abuse) return this.drop(ws, CLOSE.policy, "too many frames");
      return this.refuse(ws, raw, "rate_limited", "Too many frames", taken.retryAfterMs);
    }
    let live: boolean;
    try {
      live = await this.sessionOk(state, att, now);
    } catch {
      // The hub did not answer: the frame is not served, and the client may send it again.
      return this.refuse(ws, raw, "temporarily_unavailable", "The session could not be checked", 1000);
    }
    if (!live) return this.end(ws, "session_revoked");
    const parsed = parseFrame(raw);
    metrics.add("canopy_ws_frames_total", { type: parsed.ok ? parsed.frame.type : "invalid" }, 1, att.tenantId);
    flushTelemetrySoon(this.env, (p) => this.ctx.waitUntil(p));
    // The first frame ends the opening hold: a sync takes the held frames over, anything else releases them.
    const held = this.endOpening(state);
    if (held.length && !(parsed.ok && parsed.frame.type === "sync")) this.release(ws, held);
    const carried = parsed.ok && parsed.frame.type === "sync" ? held : [];
    const memberships = this.membershipsOf(att);
    const mark = this.vouches.mark(att.userId);
    const ctx: FrameContext = {
      userId: att.userId,
      connId: att.connId,
      listed: (ids) => memberships.listed(ids),
      conversation: (id) => conversationStub(this.env, att.tenantId, id),
      send: (frame) => this.sendTo(ws, JSON.stringify(frame)),
      presence: (frame) => this.presence(ws, att, frame),
      sync: (conversations, run) => this.sync(ws, conversations, run, carried.splice(0)),
      alone: () => this.index.of(att.userId).size === 1,
      vouch: (id) => this.vouches.get(att.userId, id),
      // Not for a socket the hub has not logged yet: a graph change would not reach this gateway.
      remember: (id, relation) => {
        if (!state.announced) this.vouches.remember(att.userId, mark, id, relation);
      },
      deliverOwn: (item) =>
        this.deliverNow(JSON.stringify({ type: "message", ...item }), [att.userId], {
          exceptConn: att.connId,
          conversationId: item.conversationId,
          seq: item.seq,
        }),
      deliverSynced: (item) =>
        this.sendTracked(ws, JSON.stringify({ type: "message", ...item }), item.conversationId, item.seq),
    };
    // A message sent over a socket starts its own trace (no header carries one in): the
    // conversation's append, every gateway's delivery and the push notification join it.
    if (parsed.ok && parsed.frame.type === "send") {
      const f = parsed.frame;
      const attrs = {
        "messaging.system": "canopy_realtime",
        "messaging.operation.type": "send",
        "messaging.destination.name": f.conversationId,
        "canopy.client_id": f.clientId,
      };
      await continueTrace("ws send", null, attrs, () => handleFrame(ctx, parsed), samplerRatio(this.env));
      flushTelemetrySoon(this.env, (p) => this.ctx.waitUntil(p));
    } else await handleFrame(ctx, parsed);
  }

  /** A presence frame goes to the user's hub: an away flag to record, or a snapshot to answer. */
  private async presence(ws: WebSocket, att: Attachment, frame: PresenceFrame): Promise<void> {
    const hub = this.hub(att);
    if (frame.type === "presence")
      return this.afterAnnounce(ws, () => hub.socketAway(att.connId, frame.status === "away"));
    const friends = await hub.presenceSnapshot();
    this.sendTo(ws, JSON.stringify({ type: "presence_snapshot", friends }));
  }

  /** The socket's in-memory state (created on first use, also after a wake); null once it closed. */
  private state(ws: WebSocket): SocketState | null {
    if (this.gone.has(ws)) return null;
    let s = this.states.get(ws);
    if (!s)
      this.states.set(
        ws,
        (s = {
          rate: null,
          checkedAt: 0,
          checking: null,
          announced: null,
          opening: null,
          sync: null,
          recent: new Map(),
        }),
      );
    return s;
  }

  /** Ends the opening hold and answers what it held. */
  private endOpening(state: SocketState): Held[] {
    if (!state.opening) return [];
    clearTimeout(state.opening.timer);
    const { queue } = state.opening;
    state.opening = null;
    return queue;
  }

  /** The opening hold ran out without a client frame: live traffic flows. */
  private opened(ws: WebSocket): void {
    const state = this.states.get(ws);
    if (state) this.release(ws, this.endOpening(state));
  }

  /** Sends held frames in the order they arrived. */
  private release(ws: WebSocket, held: Held[], syncedUpTo = new Map<string, number>()): void {
    for (const h of held) {
      if (h.conversationId === undefined || h.seq === undefined) this.sendTo(ws, h.frame);
      else if (h.seq > (syncedUpTo.get(h.conversationId) ?? -1)) this.sendTracked(ws, h.frame, h.conversationId, h.seq);
    }
  }

  private sendTo(ws: WebSocket, frame: string): void {
    try {
      ws.send(frame);
    } catch {
      // The socket closed meanwhile; its close handler cleans up.
    }
  }

  /** Sends a message frame unless the socket already got that seq (live or from a sync), remembering it. */
  private sendTracked(ws: WebSocket, frame: string, conversationId: string, seq: number): void {
    const perConv = this.state(ws)?.recent;
    if (!perConv) return; // closed meanwhile
    const seen = perConv.get(conversationId) ?? [];
    // A seq goes out once per socket: a reconnect's sync may already have sent what the live
    // fan-out delivers next (and the other way round).
    if (seen.includes(seq)) return;
    seen.push(seq);
    if (seen.length > RECENT_MAX) seen.shift();
    perConv.set(conversationId, seen);
    this.sendTo(ws, frame);
  }

  /**
   * Runs a sync with live traffic of its conversations held back (and the frames the opening hold
   * carried over), then releases what was held minus what the sync already sent: the device sees
   * each seq once, in order. A socket that closes meanwhile gets nothing more.
   */
  private async sync(
    ws: WebSocket,
    conversations: string[],
    run: () => Promise<Map<string, number>>,
    carried: Held[],
  ): Promise<void> {
    const state = this.state(ws);
    if (!state) return;
    // Carried frames of other conversations keep theirs held too, or a newer live one would pass them.
    const ids = new Set([...conversations, ...carried.flatMap((h) => (h.conversationId ? [h.conversationId] : []))]);
    const sync = state.sync
      ? { conversations: new Set([...state.sync.conversations, ...ids]), queue: state.sync.queue }
      : { conversations: ids, queue: [] as Held[] };
    sync.queue.push(...carried);
    state.sync = sync;
    let upTo = new Map<string, number>();
    try {
      upTo = await run();
    } finally {
      if (this.states.get(ws) === state && state.sync === sync) {
        state.sync = null;
        this.release(ws, sync.queue, upTo);
      }
    }
  }

  /** Drops what this gateway remembers of a user's relations (the hub: the user's graph changed). */
  forgetRelations(userId: string): void {
    this.vouches.changed(userId);
  }

  /** The connection ids of one user's sockets here (the hub's reconciliation of its connection log). */
  liveConnIds(userId: string): string[] {
    return this.ctx
      .getWebSockets(userTag(userId))
      .flatMap((ws) => (this.gone.has(ws) ? [] : [this.index.attachment(ws)?.connId ?? []].flat()));
  }

  /**
   * A frame to the sockets of `userIds` (but `exceptConn`), in a span continuing the sender's
   * trace; returns how many sockets got it. One call per gateway per message, whatever the group size.
   */
  deliver(frame: string, userIds: string[], opts: DeliveryOptions = {}): number {
    const attrs = {
      "canopy.recipients": userIds.length,
      // The members named, for groups up to 100 (a span's attributes stay small).
      ...(userIds.length <= 100 ? { "canopy.user_ids": userIds.join(",") } : {}),
      "messaging.destination.name": opts.conversationId ?? "",
    };
    const n = continueTrace("RealtimeGateway.deliver", opts.traceparent, attrs, () =>
      this.deliverNow(frame, userIds, opts),
    );
    if (opts.traceparent) flushTelemetrySoon(this.env, (p) => this.ctx.waitUntil(p));
    return n;
  }

  private deliverNow(frame: string, userIds: string[], opts: DeliveryOptions): number {
    let n = 0;
    for (const userId of userIds) {
      let learnt = !opts.conversationId;
      for (const ws of this.index.of(userId)) {
        const att = this.index.attachment(ws);
        if (!att) continue;
        // Only a conversation's own fan-out names one here: the user may address it from now on.
        if (!learnt) learnt = (this.membershipsOf(att).learn(opts.conversationId!), true);
        if (att.connId === opts.exceptConn || this.gone.has(ws)) continue;
        n++;
        const state = this.states.get(ws);
        const held = !opts.conversationId
          ? undefined
          : (state?.opening ?? (state?.sync?.conversations.has(opts.conversationId) ? state.sync : undefined));
        if (held) {
          held.queue.push({ frame, conversationId: opts.conversationId, seq: opts.seq });
        } else if (opts.conversationId && opts.seq !== undefined) {
          this.sendTracked(ws, frame, opts.conversationId, opts.seq);
        } else {
          this.sendTo(ws, frame);
        }
      }
    }
    return n;
  }

  /** Ends the sockets of a user's session with a final `closed` frame (revocation); returns how many. */
  closeSession(userId: string, sessionId: string, reason: string): number {
    const sockets = this.ctx.getWebSockets(sessionTag(userId, sessionId));
    for (const ws of sockets) this.end(ws, reason);
    return sockets.length;
  }

  /** Ends every socket of a user, or with no user every socket here (tenant suspended or deleted); returns how many. */
  closeUser(userId: string | null, reason: string): number {
    const sockets = this.ctx.getWebSockets(userId === null ? undefined : userTag(userId));
    for (const ws of sockets) this.end(ws, reason);
    return sockets.length;
  }

  /**
   * A frame not served, to be sent again after `retryAfterMs` (over the socket's budget, or the
   * hub not answering): a send's refusal names its clientId, so the client retries just it.
   */
  private refuse(
    ws: WebSocket,
    raw: string | ArrayBuffer,
    code: "rate_limited" | "temporarily_unavailable",
    why: string,
    retryAfterMs: number,
  ): void {
    const parsed = parseFrame(raw);
    const clientId = parsed.ok && parsed.frame.type === "send" ? parsed.frame.clientId : undefined;
    const frame: ServerFrame = {
      type: "error",
      code,
      message: `${why}: try again in ${retryAfterMs} ms.`,
      retryAfterMs,
      ...(clientId ? { clientId } : {}),
    };
    this.sendTo(ws, JSON.stringify(frame));
  }

  private end(ws: WebSocket, reason: string): void {
    if (this.gone.has(ws)) return;
    const frame: ServerFrame = { type: "closed", reason };
    this.sendTo(ws, JSON.stringify(frame));
    this.drop(ws, CLOSE.revoked, reason);
  }

  private drop(ws: WebSocket, code: number, reason: string): void {
    this.forget(ws, "server");
    try {
      ws.close(code, reason.slice(0, 120));
    } catch {
      // already closed
    }
  }

  /**
   * Clears a socket's in-memory state, counts its end once — `client` (webSocketClose), `error`
   * (webSocketError) or `server` (a drop) — and tells the user's hub it closed.
   */
  forget(ws: WebSocket, by: "client" | "server" | "error"): void {
    if (this.gone.has(ws)) return;
    const att = this.index.attachment(ws);
    const state = this.states.get(ws);
    if (state) this.endOpening(state);
    this.gone.add(ws);
    if (!att) return void this.states.delete(ws);
    metrics.add("canopy_ws_disconnects_total", { reason: by }, 1, att.tenantId);
    flushTelemetrySoon(this.env, (p) => this.ctx.waitUntil(p));
    // After its socketOpened: a close that overtook it would leave the hub a row of a closed socket.
    const hub = this.hub(att);
    this.ctx.waitUntil(this.afterAnnounce(ws, () => hub.socketClosed(att.connId)));
    this.states.delete(ws);
    // The user's last socket here: what was kept for them goes (a graph change would not reach it).
    if (!this.index.remove(ws, att.userId)) {
      this.vouches.drop(att.userId);
      this.memberships.delete(att.userId);
    }
  }
}
