import { errorRegistry, type ErrorCode } from "../../lib/error-codes";
import { CLOSE, FRAME_BURST, FRAMES_PER_SECOND, MAX_FRAME_BYTES, type ServerFrame } from "../protocol/frames";
import type { Relation } from "../protocol/relation";
import type { DeliverOptions } from "../conversation/types";
import type { ConnectionLog } from "./connections";
import { HubMemberships } from "./memberships";
import type { PresenceHooks } from "./presence-types";
import { handleFrame, parseFrame, type FrameContext } from "./sockets-frames";
import { type FrameBucket, fullBucket, takeFrame } from "./frame-bucket";
import { connTag, HUB_HEADERS, type SocketAttachment } from "./sockets-types";
import { conversationStub } from "../protocol/stubs";
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

/** Direct conversations' peers remembered per hub (in memory; a woken hub learns them again). */
const PEERS_MAX = 1000;

/** A live frame held back, with the conversation and seq that order it. */
interface Held {
  frame: string;
  conversationId?: string | undefined;
  seq?: number | undefined;
}

/**
 * In-memory state of one socket. It may be lost when the hub hibernates; nothing in it must
 * survive (rate windows restart, a woken hub holds nothing back).
 */
interface SocketState {
  /** The socket's frame budget (frame-bucket.ts); full again after the object wakes. */
  rate: FrameBucket | null;
  /** From the upgrade until the first client frame (at most OPENING_HOLD_MS): every live conversation frame waits. */
  opening: { queue: Held[]; timer: ReturnType<typeof setTimeout> } | null;
  /** While a sync is answered: live frames of its conversations wait, and go out after it minus what it sent. */
  sync: { conversations: Set<string>; queue: Held[] } | null;
  /** Seqs recently sent, per conversation: each goes out once per socket. */
  recent: Map<string, number[]>;
}

const problem = (code: ErrorCode, detail: string) =>
  Response.json({ code, detail }, { status: errorRegistry[code].status });

/**
 * The user's WebSockets, terminated in the UserHub with the hibernation API. Every device of
 * the user connects here; frames go to the conversations, and conversations deliver back
 * through `deliver`. In-memory state (rate windows, sync bookkeeping) may be lost when the
 * object hibernates; nothing that must survive lives there.
 */
export class HubSockets {
  private readonly states = new Map<WebSocket, SocketState>();
  /** Sockets already closed: late deliveries and sync answers must not bring their state back. */
  private readonly gone = new WeakSet<WebSocket>();
  private readonly peers = new Map<string, string>();
  private readonly memberships: HubMemberships;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly env: Env,
    private readonly userId: () => string,
    private readonly sessionLive: (sessionId: string) => { deviceId: string } | null,
    private readonly presence: PresenceHooks,
    private readonly connections: ConnectionLog,
    /** This user's relation with `peer` (the hub's friend graph). */
    private readonly relationWith: (peer: string) => Relation,
  ) {
    configureTelemetry(env); // this object records socket metrics
    this.memberships = new HubMemberships(env, userId);
    // Answered by the runtime without waking a hibernated hub.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  /**
   * Accepts an upgrade the Worker authenticated. The identity comes from headers the Worker set
   * itself; the session is checked live here, and a ticket's id is spent here (one-time use).
   */
  upgrade(req: Request, now = Date.now()): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return problem("upgrade_required", "Expected a WebSocket upgrade.");
    const h = (k: keyof typeof HUB_HEADERS) => req.headers.get(HUB_HEADERS[k]);
    const [tenantId, userId, sessionId] = [h("tenant"), h("user"), h("session")];
    if (!tenantId || !userId || !sessionId || userId !== this.userId())
      return problem("unauthenticated", "Sign in again.");
    const session = this.sessionLive(sessionId);
    if (!session) return problem("session_revoked", "The session is no longer valid.");
    const jti = h("ticketId");
    if (jti) {
      const sql = this.ctx.storage.sql;
      sql.exec("DELETE FROM used_tickets WHERE expires_at < ?", now);
      const spent = sql.exec(
        "INSERT INTO used_tickets (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING",
        jti,
        Number(h("ticketExp") ?? now + 60_000),
      );
      if (spent.rowsWritten === 0) return problem("ticket_used", "The ticket was already used.");
    }
    const pair = new WebSocketPair();
    const connId = crypto.randomUUID();
    this.ctx.acceptWebSocket(pair[1], [sessionId, connTag(connId)]);
    const attachment: SocketAttachment = {
      hub: {
        tenantId,
        sessionId,
        deviceId: session.deviceId,
        connId,
        framesPerSecond: Number(h("framesPerSecond")) || FRAMES_PER_SECOND,
        frameBurst: Number(h("frameBurst")) || FRAME_BURST,
        maxFrameBytes: Number(h("maxFrameBytes")) || MAX_FRAME_BYTES,
      },
    };
    pair[1].serializeAttachment(attachment);
    const state = this.state(pair[1])!;
    state.opening = { queue: [], timer: setTimeout(() => this.opened(pair[1]), OPENING_HOLD_MS) };
    this.connections.opened(connId, sessionId, tenantId, now); // counts the socket (canopy_ws_connections)
    flushTelemetrySoon(this.env, (p) => this.ctx.waitUntil(p));
    this.presence.opened(pair[1], tenantId, h("presencePrivacy"));
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** One client frame: size and rate caps first, then validation, then the frame's handler. */
  async message(ws: WebSocket, raw: string | ArrayBuffer, now = Date.now()): Promise<void> {
    const att = (ws.deserializeAttachment() as SocketAttachment | null)?.hub;
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
    const burst = att.frameBurst ?? FRAME_BURST;
    const taken = takeFrame((state.rate ??= fullBucket(burst, now)), att.framesPerSecond, burst, now);
    if (!taken.ok) {
      if (taken.abuse) return this.drop(ws, CLOSE.policy, "too many frames");
      return this.refuse(ws, raw, taken.retryAfterMs);
    }
    if (!this.sessionLive(att.sessionId)) return this.end(ws, "session_revoked");
    const parsed = parseFrame(raw);
    metrics.add("canopy_ws_frames_total", { type: parsed.ok ? parsed.frame.type : "invalid" }, 1, att.tenantId);
    flushTelemetrySoon(this.env, (p) => this.ctx.waitUntil(p));
    // The first frame ends the opening hold: a sync takes the held frames over, anything else releases them.
    const held = this.endOpening(state);
    if (held.length && !(parsed.ok && parsed.frame.type === "sync")) this.release(ws, held);
    const carried = parsed.ok && parsed.frame.type === "sync" ? held : [];
    const ctx: FrameContext = {
      userId: this.userId(),
      connId: att.connId,
      listed: (ids) => this.memberships.listed(att.tenantId, ids),
      conversation: (id) => conversationStub(this.env, att.tenantId, id),
      send: (frame) => this.sendTo(ws, JSON.stringify(frame)),
      presence: (frame) => this.presence.frame(ws, frame),
      sync: (conversations, run) => this.sync(ws, conversations, run, carried.splice(0)),
      vouch: (id) => {
        const peer = this.peers.get(id);
        return peer === undefined ? undefined : { peer, ...this.relationWith(peer) };
      },
      blockedAmong: (ids) =>
        ids.filter((u) => {
          const r = this.relationWith(u);
          return r.blocks || r.blockedBy;
        }),
      remember: (id, peer) => {
        if (this.peers.size >= PEERS_MAX) this.peers.clear();
        this.peers.set(id, peer);
      },
      alone: () => this.ctx.getWebSockets().length === 1,
      deliverOwn: (item) =>
        this.deliver(JSON.stringify({ type: "message", ...item }), {
          exceptConn: att.connId,
          conversationId: item.conversationId,
          seq: item.seq,
        }),
      deliverSynced: (item) =>
        this.sendTracked(ws, JSON.stringify({ type: "message", ...item }), item.conversationId, item.seq),
    };
    // A message sent over a socket starts its own trace (no header carries one in): the
    // conversation's append, every member's delivery and the push notification join it.
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

  /** The socket's in-memory state (created on first use, also after a wake); null once it closed. */
  private state(ws: WebSocket): SocketState | null {
    if (this.gone.has(ws)) return null;
    let s = this.states.get(ws);
    if (!s) this.states.set(ws, (s = { rate: null, opening: null, sync: null, recent: new Map() }));
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

  /** The connection ids of the sockets the runtime holds (for the connection log's reconciliation). */
  liveConnIds(): Set<string> {
    const ids = this.ctx
      .getWebSockets()
      .map((ws) => (ws.deserializeAttachment() as SocketAttachment | null)?.hub.connId);
    return new Set(ids.filter((id): id is string => !!id));
  }

  /** Writes a frame to every socket of the user (but `exceptConn`); returns how many got it. */
  /** A frame to every socket of the user (but `exceptConn`), in a span continuing the sender's trace. */
  deliver(frame: string, opts: DeliverOptions = {}): number {
    const attrs = { "canopy.user_id": this.userId(), "messaging.destination.name": opts.conversationId ?? "" };
    const n = continueTrace("UserHub.deliver", opts.traceparent, attrs, () => this.deliverNow(frame, opts));
    if (opts.traceparent) flushTelemetrySoon(this.env, (p) => this.ctx.waitUntil(p));
    return n;
  }

  private deliverNow(frame: string, opts: DeliverOptions): number {
    // Only a conversation's own fan-out names one here: the user may address it from now on.
    if (opts.conversationId) this.memberships.learn(opts.conversationId);
    let n = 0;
    for (const ws of this.ctx.getWebSockets()) {
      const att = (ws.deserializeAttachment() as SocketAttachment | null)?.hub;
      if (!att || att.connId === opts.exceptConn) continue;
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
    return n;
  }

  /** Ends every socket of a session with a final `closed` frame (revocation, suspension). */
  closeSession(sessionId: string, reason: string): void {
    for (const ws of this.ctx.getWebSockets(sessionId)) this.end(ws, reason);
  }

  /** A frame over the socket's budget: a send's refusal names its clientId, so the client retries just it. */
  private refuse(ws: WebSocket, raw: string | ArrayBuffer, retryAfterMs: number): void {
    const parsed = parseFrame(raw);
    const clientId = parsed.ok && parsed.frame.type === "send" ? parsed.frame.clientId : undefined;
    const frame: ServerFrame = {
      type: "error",
      code: "rate_limited",
      message: `Too many frames: try again in ${retryAfterMs} ms.`,
      retryAfterMs,
      ...(clientId ? { clientId } : {}),
    };
    this.sendTo(ws, JSON.stringify(frame));
  }

  private end(ws: WebSocket, reason: string): void {
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
   * Clears a socket's in-memory state and counts its end: `client` (webSocketClose), `error`
   * (webSocketError) or `server` (a drop).
   */
  forget(ws: WebSocket, by: "client" | "server" | "error"): void {
    const hub = (ws.deserializeAttachment() as SocketAttachment | null)?.hub;
    const connId = hub?.connId;
    if (connId) this.connections.closed(connId); // the open-sockets gauge goes down with the row
    // Counted once per socket: webSocketClose and webSocketError may both come after a drop.
    if (connId && !this.gone.has(ws)) {
      metrics.add("canopy_ws_disconnects_total", { reason: by }, 1, hub.tenantId);
      flushTelemetrySoon(this.env, (p) => this.ctx.waitUntil(p));
    }
    const state = this.states.get(ws);
    if (state) this.endOpening(state);
    this.states.delete(ws);
    this.gone.add(ws);
    this.presence.gone(ws);
  }
}
