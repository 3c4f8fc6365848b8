/**
 * The realtime benchmark's baseline: a bare hibernating Durable Object that only echoes or
 * broadcasts, served by the same workerd process as Canopy (a second Worker service, see
 * servers.ts). Transpiled to the ES module workerd loads by `bareModule()`; nothing else here.
 *
 * `GET /echo/<room>`, `GET /stored/<room>` or `GET /broadcast/<room>` with `Upgrade: websocket`: the
 * Worker forwards the upgrade to `BareRoom(<room>)` (like Canopy's Worker forwards it to the user's
 * hub), which accepts it with the hibernation API, the mode as the socket's tag. An `echo` socket
 * gets each of its frames back; a `stored` socket too, after the frame is inserted into the
 * object's SQLite (the runtime holds the echo until the write is durable, as it holds Canopy's
 * fan-out: the floor of any delivery that stores first); a `broadcast` socket's frames go to every
 * other socket of its room (`ctx.getWebSockets()`, as Canopy's hub writes to a user's sockets).
 *
 * `GET /arch/<room>/<user>`: the floor of Canopy's own architecture with none of its logic. The
 * socket terminates in `BareHub(<user>)`, which joins `BareLog(<room>)`; a frame goes hub → log
 * (RPC), the log inserts it into its SQLite and calls `deliver` on every other member's hub
 * (RPC, held by the runtime until the write is durable), and each hub writes it to its sockets.
 * That is Canopy's path (user hub → conversation log → members' hubs) without validation,
 * sessions, seq bookkeeping, acks or events.
 */
import { DurableObject } from "cloudflare:workers";

/** The parts of workerd's DurableObjectState this object uses. */
interface RoomState {
  storage: { sql: { exec(query: string, ...bindings: unknown[]): unknown } };
  acceptWebSocket(ws: WebSocket, tags?: string[]): void;
  getWebSockets(tag?: string): WebSocket[];
  getTags(ws: WebSocket): string[];
}

interface RoomStub {
  fetch(req: Request): Promise<Response>;
}

interface RoomNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): RoomStub;
}

declare const WebSocketPair: new () => { 0: WebSocket; 1: WebSocket };

export class BareRoom {
  constructor(private readonly state: RoomState) {}

  fetch(req: Request): Response {
    const mode = /^\/(echo|stored|broadcast)\//.exec(new URL(req.url).pathname)?.[1] ?? "echo";
    const pair = new WebSocketPair();
    this.state.acceptWebSocket(pair[1], [mode]);
    // workerd's ResponseInit takes the client end of the pair.
    const init = { status: 101, webSocket: pair[0] };
    return new Response(null, init as ResponseInit);
  }

  webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const mode = this.state.getTags(ws)[0];
    if (mode === "stored") {
      this.state.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)");
      this.state.storage.sql.exec("INSERT INTO log (body) VALUES (?)", typeof message === "string" ? message : "");
    }
    if (mode !== "broadcast") return ws.send(message);
    for (const other of this.state.getWebSockets()) {
      if (other === ws) continue;
      try {
        other.send(message);
      } catch {
        // closed meanwhile
      }
    }
  }

  // Like Canopy's hub: nothing to clean up (no in-memory state per socket).
  webSocketClose(): void {}
  webSocketError(): void {}
}

interface ArchEnv {
  HUB: {
    idFromName(name: string): unknown;
    get(id: unknown): { fetch(req: Request): Promise<Response>; deliver(frame: string): Promise<void> };
  };
  LOG: {
    idFromName(name: string): unknown;
    get(id: unknown): { join(user: string): Promise<void>; append(from: string, frame: string): Promise<void> };
  };
}

interface ArchState extends RoomState {
  storage: { sql: { exec(query: string, ...bindings: unknown[]): { toArray(): Record<string, unknown>[] } } };
}

const hubOf = (env: ArchEnv, user: string) => env.HUB.get(env.HUB.idFromName(user));
const logOf = (env: ArchEnv, room: string) => env.LOG.get(env.LOG.idFromName(room));

/** A user's object: holds the user's sockets, sends their frames to the room's log, writes deliveries out. */
export class BareHub extends DurableObject<ArchEnv> {
  constructor(
    private readonly state: ArchState,
    private readonly archEnv: ArchEnv,
  ) {
    super(state, archEnv);
  }

  async fetch(req: Request): Promise<Response> {
    const [, , room = "", user = ""] = new URL(req.url).pathname.split("/");
    await logOf(this.archEnv, room).join(user);
    const pair = new WebSocketPair();
    this.state.acceptWebSocket(pair[1], [room, user]);
    return new Response(null, { status: 101, webSocket: pair[0] } as ResponseInit);
  }

  async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const [room = "", user = ""] = this.state.getTags(ws);
    await logOf(this.archEnv, room).append(user, typeof message === "string" ? message : "");
  }

  deliver(frame: string): void {
    for (const ws of this.state.getWebSockets()) {
      try {
        ws.send(frame);
      } catch {
        // closed meanwhile
      }
    }
  }

  webSocketClose(): void {}
  webSocketError(): void {}
}

/** A room's log: stores each frame, then has every other member's hub deliver it. */
export class BareLog extends DurableObject<ArchEnv> {
  private readonly members = new Set<string>();

  constructor(
    private readonly state: ArchState,
    private readonly archEnv: ArchEnv,
  ) {
    super(state, archEnv);
    const sql = state.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS members (user TEXT PRIMARY KEY)");
    sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, sender TEXT NOT NULL, body TEXT NOT NULL)");
    for (const r of sql.exec("SELECT user FROM members").toArray()) this.members.add(String(r.user));
  }

  join(user: string): void {
    if (this.members.has(user)) return;
    this.members.add(user);
    this.state.storage.sql.exec("INSERT OR IGNORE INTO members (user) VALUES (?)", user);
  }

  append(from: string, frame: string): void {
    this.state.storage.sql.exec("INSERT INTO log (sender, body) VALUES (?, ?)", from, frame);
    for (const user of this.members) {
      if (user !== from)
        void hubOf(this.archEnv, user)
          .deliver(frame)
          .catch(() => undefined);
    }
  }
}

export default {
  fetch(req: Request, env: { ROOM: RoomNamespace } & ArchEnv): Promise<Response> | Response {
    const arch = /^\/arch\/([\w-]{1,64})\/([\w-]{1,64})$/.exec(new URL(req.url).pathname);
    if (arch) {
      if (req.headers.get("upgrade")?.toLowerCase() !== "websocket")
        return new Response("upgrade required", { status: 426 });
      return hubOf(env, arch[2]!).fetch(req);
    }
    const room = /^\/(echo|stored|broadcast)\/([\w-]{1,64})$/.exec(new URL(req.url).pathname)?.[2];
    if (!room) return new Response("ok");
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket")
      return new Response("upgrade required", { status: 426 });
    return env.ROOM.get(env.ROOM.idFromName(room)).fetch(req);
  },
};
