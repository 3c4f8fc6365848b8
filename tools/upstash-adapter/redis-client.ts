/**
 * A minimal Redis client over one TCP connection with pipelining. Replies arrive in the order
 * commands were written, so a FIFO of waiters is enough. A batch (`send([...])`) is written in
 * one synchronous `write`, so nothing from another batch can land between its commands: that
 * is what keeps MULTI … EXEC atomic on a shared connection. No blocking commands (the adapter
 * refuses them): one would stall every other caller of the connection.
 */
import { createConnection, type Socket } from "node:net";
import { encodeCommand, RespParser, type RespValue } from "./resp.js";

interface Waiter {
  resolve(value: RespValue): void;
  reject(err: Error): void;
}

export class RedisClient {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly waiters: Waiter[] = [];
  private readonly parser = new RespParser();
  private closed = false;

  constructor(
    readonly port: number,
    readonly host = "127.0.0.1",
  ) {}

  /**
   * Send commands back to back; resolves with one reply per command (error replies are
   * `RespError` values). Rejects only when the connection fails; the next call reconnects.
   */
  async send(commands: readonly (readonly string[])[]): Promise<RespValue[]> {
    const socket = await this.connect();
    // Register the waiters and write in the same synchronous step, so their order is the write order.
    const replies = commands.map(
      (_) => new Promise<RespValue>((resolve, reject) => this.waiters.push({ resolve, reject })),
    );
    socket.write(Buffer.concat(commands.map(encodeCommand)));
    return Promise.all(replies);
  }

  /** Close the connection; pending commands are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const socket = this.socket ?? (await this.connecting?.catch(() => undefined));
    if (socket === undefined || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once("close", () => resolve());
      socket.destroy();
    });
  }

  private connect(): Promise<Socket> {
    if (this.closed) return Promise.reject(new Error("redis client is closed"));
    if (this.socket !== undefined && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const socket = createConnection({ port: this.port, host: this.host });
      socket.setNoDelay(true);
      socket.once("connect", () => {
        this.socket = socket;
        this.connecting = undefined;
        resolve(socket);
      });
      socket.on("data", (chunk: Buffer) => this.onData(socket, chunk));
      socket.on("error", (err) => {
        if (this.connecting !== undefined && this.socket !== socket) {
          this.connecting = undefined;
          reject(new Error(`cannot connect to redis at ${this.host}:${this.port}: ${err.message}`));
        }
        this.failAll(new Error(`redis connection error: ${err.message}`));
      });
      socket.on("close", () => {
        if (this.socket === socket) this.socket = undefined;
        this.parser.reset();
        this.failAll(new Error("redis connection closed"));
      });
    });
    return this.connecting;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    let replies: RespValue[];
    try {
      replies = this.parser.push(chunk);
    } catch (err) {
      socket.destroy(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    for (const reply of replies) this.waiters.shift()?.resolve(reply);
  }

  private failAll(err: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(err);
  }
}
