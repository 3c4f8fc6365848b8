/**
 * A TCP proxy between the Worker and the local libSQL server that injects network faults.
 * Modes, switched at any time and applied to open connections too:
 * - `pass`: bytes flow both ways untouched;
 * - `delay`: every chunk, both ways, is held `ms` milliseconds (order kept per direction);
 * - `drop`: a blackhole. New connections are accepted and never answered; data arriving on open
 *   connections is swallowed. Such a connection stays silent for good (bytes it lost cannot be
 *   replayed), so its client sees a hang until its own timeout, as behind a dead link;
 * - `reset`: every open connection is reset (RST) and new ones are reset as soon as accepted.
 * The upstream being down (the libSQL server killed) shows up as a reset too: the proxy cannot
 * connect and destroys the client's socket.
 */
import { createServer, Socket, type AddressInfo, type Server } from "node:net";

export type ProxyMode = { kind: "pass" } | { kind: "delay"; ms: number } | { kind: "drop" } | { kind: "reset" };

/** What the proxy did, for the report. */
export interface ProxyStats {
  connections: number;
  resets: number;
  /** Connections that went silent in a blackhole. */
  blackholed: number;
  bytesUp: number;
  bytesDown: number;
  /** Chunks swallowed by a blackhole. */
  swallowed: number;
}

/**
 * One direction of a connection: chunks leave in arrival order, each no earlier than its own
 * arrival plus the delay in force then, so switching from `delay` to `pass` never reorders bytes.
 */
class Lane {
  private readonly queue: { at: number; chunk: Buffer }[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly write: (chunk: Buffer) => void) {}

  push(chunk: Buffer, delayMs: number): void {
    const last = this.queue[this.queue.length - 1]?.at ?? 0;
    this.queue.push({ at: Math.max(Date.now() + delayMs, last), chunk });
    this.pump();
  }

  private pump(): void {
    if (this.timer) return;
    const now = Date.now();
    while (this.queue.length && this.queue[0]!.at <= now) this.write(this.queue.shift()!.chunk);
    const head = this.queue[0];
    if (head) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.pump();
      }, head.at - now);
    }
  }

  clear(): void {
    this.queue.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

interface Pair {
  client: Socket;
  upstream: Socket | null;
  up: Lane | null;
  down: Lane | null;
  /** Swallow everything from now on (it went through a blackhole). */
  silent: boolean;
}

/** Node ≥ 16.17 can send an RST; fall back to a plain destroy. */
function reset(s: Socket): void {
  if (s.destroyed) return;
  if (typeof s.resetAndDestroy === "function") s.resetAndDestroy();
  else s.destroy();
}

export class FaultProxy {
  private mode: ProxyMode = { kind: "pass" };
  private readonly pairs = new Set<Pair>();
  private server: Server | null = null;
  readonly stats: ProxyStats = { connections: 0, resets: 0, blackholed: 0, bytesUp: 0, bytesDown: 0, swallowed: 0 };

  constructor(
    private readonly upstreamHost: string,
    private readonly upstreamPort: number,
  ) {}

  /** Listens on 127.0.0.1 (`port` 0: any free port); resolves with the port. */
  listen(port = 0): Promise<number> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
    });
  }

  get current(): ProxyMode {
    return this.mode;
  }

  /**
   * Switches the mode; `reset` resets every open connection at once. `drop` silences a
   * connection when it next carries data (an idle pooled connection survives a partition, as
   * TCP does, and works again after it heals).
   */
  setMode(mode: ProxyMode): void {
    this.mode = mode;
    if (mode.kind === "reset") for (const p of [...this.pairs]) this.kill(p);
  }

  /** Stops listening and destroys every connection (blackholed ones included). */
  close(): Promise<void> {
    for (const p of [...this.pairs]) this.kill(p);
    const server = this.server;
    this.server = null;
    return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private silence(p: Pair): void {
    if (!p.silent) this.stats.blackholed++;
    p.silent = true;
    p.up?.clear();
    p.down?.clear();
  }

  private kill(p: Pair): void {
    this.pairs.delete(p);
    p.up?.clear();
    p.down?.clear();
    this.stats.resets++;
    reset(p.client);
    if (p.upstream) reset(p.upstream);
  }

  private accept(client: Socket): void {
    this.stats.connections++;
    const p: Pair = { client, upstream: null, up: null, down: null, silent: false };
    this.pairs.add(p);
    client.on("error", () => undefined);
    client.on("close", () => {
      this.pairs.delete(p);
      p.upstream?.destroy();
    });
    if (this.mode.kind === "reset") return this.kill(p);
    if (this.mode.kind === "drop") {
      // Accepted, never answered: hold the socket open and swallow what it sends.
      this.silence(p);
      client.on("data", () => void this.stats.swallowed++);
      return;
    }
    const upstream = new Socket();
    p.upstream = upstream;
    p.up = new Lane((chunk) => {
      this.stats.bytesUp += chunk.length;
      if (!upstream.destroyed) upstream.write(chunk);
    });
    p.down = new Lane((chunk) => {
      this.stats.bytesDown += chunk.length;
      if (!client.destroyed) client.write(chunk);
    });
    upstream.on("error", () => {
      // The libSQL server is down or went away: the client sees its connection reset.
      if (this.pairs.has(p)) this.kill(p);
    });
    upstream.on("close", () => {
      if (this.pairs.has(p)) {
        this.pairs.delete(p);
        client.destroy();
      }
    });
    // Until the upstream is connected, the client's bytes wait in order.
    const early: Buffer[] = [];
    client.on("data", (chunk: Buffer) => {
      if (upstream.connecting) early.push(chunk);
      else this.forward(p, chunk, "up");
    });
    upstream.connect(this.upstreamPort, this.upstreamHost, () => {
      for (const chunk of early.splice(0)) this.forward(p, chunk, "up");
    });
    upstream.on("data", (chunk: Buffer) => this.forward(p, chunk, "down"));
  }

  /** Sends one chunk on through its lane, unless the pair went silent. */
  private forward(p: Pair, chunk: Buffer, dir: "up" | "down"): void {
    const mode = this.mode;
    if (p.silent || mode.kind === "drop") {
      this.silence(p);
      this.stats.swallowed++;
      return;
    }
    (dir === "up" ? p.up : p.down)?.push(chunk, mode.kind === "delay" ? mode.ms : 0);
  }
}
