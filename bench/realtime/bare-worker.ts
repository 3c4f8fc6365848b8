/**
 * The realtime benchmark's baseline: a bare hibernating Durable Object that only echoes or
 * broadcasts, served by the same workerd process as Canopy (a second Worker service, see
 * servers.ts). Transpiled to the ES module workerd loads by `bareModule()`; nothing else here.
 *
 * `GET /echo/<room>` or `GET /broadcast/<room>` with `Upgrade: websocket`: the Worker forwards the
 * upgrade to `BareRoom(<room>)` (like Canopy's Worker forwards it to the user's hub), which
 * accepts it with the hibernation API, the mode as the socket's tag. An `echo` socket gets each
 * of its frames back; a `broadcast` socket's frames go to every other socket of its room
 * (`ctx.getWebSockets()`, as Canopy's hub writes to a user's sockets).
 */

/** The parts of workerd's DurableObjectState this object uses. */
interface RoomState {
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
    const mode = new URL(req.url).pathname.startsWith("/broadcast/") ? "broadcast" : "echo";
    const pair = new WebSocketPair();
    this.state.acceptWebSocket(pair[1], [mode]);
    // workerd's ResponseInit takes the client end of the pair.
    const init = { status: 101, webSocket: pair[0] };
    return new Response(null, init as ResponseInit);
  }

  webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    if (this.state.getTags(ws)[0] !== "broadcast") return ws.send(message);
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

export default {
  fetch(req: Request, env: { ROOM: RoomNamespace }): Promise<Response> | Response {
    const room = /^\/(echo|broadcast)\/([\w-]{1,64})$/.exec(new URL(req.url).pathname)?.[2];
    if (!room) return new Response("ok");
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") return new Response("upgrade required", { status: 426 });
    return env.ROOM.get(env.ROOM.idFromName(room)).fetch(req);
  },
};
