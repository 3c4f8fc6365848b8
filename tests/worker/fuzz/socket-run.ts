import { connect, type Frame, type Sock } from "../socket-helpers";
import { buildFrame, type BuiltFrame } from "./frame-build";
import type { FrameCase, FrameFixtures } from "./frames";
import { isObject } from "./schema-check";

/** One broken promise of the protocol, with what is needed to read and replay it. */
export interface SocketFailure {
  why: string;
  label: string;
  /** Index of the case (same seed, same index); -1 for the liveness probe after a batch. */
  index: number;
  sent: string;
  answers: Frame[];
  closed?: { code: number; reason: string };
}

/** What one run found. */
export interface SocketResult {
  frames: number;
  /** Sockets the hub closed at a cap (a frame over `maxFrameBytes`): allowed, then reopened. */
  capCloses: number;
  failures: SocketFailure[];
  /** Hostile frames the hub accepted without an error (control characters): allowed, noted. */
  soft: string[];
  /** The answers the frames got, by type (and code, for errors): shows what the run reached. */
  answers: Record<string, number>;
}

/** What the answer to a frame must be. */
interface Expectation {
  what: string;
  match(f: Frame): boolean;
  /** A further check of the matched frame (and of the frames since the send). */
  check?(f: Frame, since: Frame[]): string | null;
}

type Waited = { frame: Frame } | { closed: { code: number; reason: string } } | { timeout: true };

const CLOSE_TOO_LARGE = 1009;
const CLOSE_POLICY = 1008;
// Frames that name a conversation: none may name one the user is not in. (`error` frames echo the
// id the client sent, so they may.)
const SCOPED = new Set(["ack", "edited", "recalled", "message", "read", "typing", "sync_truncated"]);
/** After how many cases the socket is probed with a canonical ping and a real send. */
const BATCH = 8;
const MAX_FAILURES = 25;

const preview = (b: BuiltFrame) => {
  const text =
    typeof b.data === "string"
      ? b.data
      : `<binary ${[...b.data.slice(0, 24)].map((x) => x.toString(16).padStart(2, "0")).join(" ")}${b.data.length > 24 ? " …" : ""}>`;
  return `${JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text)} (${b.bytes} bytes)`;
};
const validClientId = (v: unknown): v is string => typeof v === "string" && v.length >= 1 && v.length <= 64;

/**
 * Sends hostile frames over a real socket, one at a time, and holds every answer to the protocol
 * of docs/realtime.md: a bad frame gets an `error` frame (`invalid_frame`, with the clientId
 * echoed), a frame naming a conversation the user is not in gets `conversation_not_found` and
 * never an ack, a frame over the size cap closes the socket with 1009 (then a new socket is
 * opened), no other close ever happens (1011 above all), and after every batch a canonical ping
 * gets its pong and a real send its ack. The tenant's frame rate cap is set above what a run
 * sends, so a 1008 is a failure unless the socket really carried more frames than the cap.
 */
export class FrameRunner {
  private sock!: Sock;
  private sockets: Sock[] = [];
  private sentOnSocket = 0;
  private readonly mine: Set<string>;
  private readonly result: SocketResult = { frames: 0, capCloses: 0, failures: [], soft: [], answers: {} };

  constructor(
    private readonly slug: string,
    private readonly token: string,
    private readonly fx: FrameFixtures,
    private readonly framesPerSecond: number,
  ) {
    this.mine = new Set(fx.mine);
  }

  /** Runs the cases in order; failures are collected, not thrown. */
  async run(cases: FrameCase[]): Promise<SocketResult> {
    await this.open();
    for (const [index, c] of cases.entries()) {
      if (this.result.failures.length >= MAX_FAILURES) break;
      await this.exchange(buildFrame(c, this.fx), index);
      if (index % BATCH === BATCH - 1 || index === cases.length - 1) await this.probe(index);
    }
    this.leaks();
    for (const s of this.sockets) if (!s.closeInfo()) s.ws.close(1000, "done");
    return this.result;
  }

  private async open(): Promise<void> {
    this.sock = await connect(this.slug, { token: this.token });
    this.sockets.push(this.sock);
    this.sentOnSocket = 0;
  }

  private send(data: string | Uint8Array): boolean {
    try {
      this.sock.ws.send(data);
      this.sentOnSocket++;
      this.result.frames++;
      return true;
    } catch {
      return false;
    }
  }

  private async wait(from: number, match: (f: Frame) => boolean, ms = 5000): Promise<Waited> {
    try {
      return await this.sock.until<Waited>(
        () => {
          const frame = this.sock.frames.slice(from).find(match);
          if (frame) return { frame };
          const closed = this.sock.closeInfo();
          return closed ? { closed } : undefined;
        },
        "an answer",
        ms,
      );
    } catch {
      return { timeout: true };
    }
  }

  private fail(why: string, label: string, index: number, sent: string, from: number): void {
    const closed = this.sock.closeInfo();
    this.result.failures.push({
      why,
      label,
      index,
      sent,
      answers: this.sock.frames.slice(from, from + 8),
      ...(closed ? { closed } : {}),
    });
  }

  private async exchange(b: BuiltFrame, index: number): Promise<void> {
    const from = this.sock.frames.length;
    const sent = preview(b);
    if (!this.send(b.data)) {
      this.fail("the socket refused a send (closed without a close event)", b.label, index, sent, from);
      return this.open();
    }
    if (b.bytes > this.fx.maxFrameBytes) {
      // The documented cap: the socket closes with 1009, and a new one is opened.
      const w = await this.wait(from, () => false);
      if (!("closed" in w))
        this.fail(
          `a ${b.bytes}-byte frame over the ${this.fx.maxFrameBytes}-byte cap did not close the socket`,
          b.label,
          index,
          sent,
          from,
        );
      else if (w.closed.code !== CLOSE_TOO_LARGE)
        this.fail(
          `a frame over the cap closed the socket with ${w.closed.code}, not ${CLOSE_TOO_LARGE}`,
          b.label,
          index,
          sent,
          from,
        );
      else this.result.capCloses++;
      return this.open();
    }
    const e = this.expectation(b);
    if (e) {
      const w = await this.wait(from, e.match);
      if ("frame" in w) {
        const bad = e.check?.(w.frame, this.sock.frames.slice(from));
        if (bad) this.fail(bad, b.label, index, sent, from);
        const key = w.frame.type === "error" ? `error ${String(w.frame.code)}` : w.frame.type;
        this.result.answers[key] = (this.result.answers[key] ?? 0) + 1;
        if (b.soft && w.frame.type !== "error") this.result.soft.push(`${b.label}: ${b.soft}`);
      } else if ("timeout" in w) {
        this.fail(`no ${e.what}`, b.label, index, sent, from);
      }
    } else {
      this.result.answers["(none expected)"] = (this.result.answers["(none expected)"] ?? 0) + 1;
      if (b.soft) this.result.soft.push(`${b.label}: ${b.soft}`);
    }
    const closed = this.sock.closeInfo();
    if (closed) {
      const allowed =
        closed.code === CLOSE_POLICY &&
        /too many frames/.test(closed.reason) &&
        this.sentOnSocket > this.framesPerSecond;
      if (!allowed) this.fail(`the socket closed with ${closed.code} '${closed.reason}'`, b.label, index, sent, from);
      await this.open();
    }
  }

  /** What the protocol promises for this frame (null: nothing is answered, e.g. `typing`). */
  private expectation(b: BuiltFrame): Expectation | null {
    const f = b.parsed;
    const echo = f && validClientId(f.clientId) ? f.clientId : undefined;
    if (b.invalid.length) {
      return {
        what: `error invalid_frame (${b.invalid[0]})`,
        match: (x) => x.type === "error" && x.code === "invalid_frame",
        check: (x) =>
          echo !== undefined && x.clientId !== echo ? `the error did not echo clientId ${JSON.stringify(echo)}` : null,
      };
    }
    if (!f) return null;
    const conv = typeof f.conversationId === "string" ? f.conversationId : undefined;
    if (conv !== undefined && !this.mine.has(conv)) {
      return {
        what: `error conversation_not_found for ${conv}, a conversation the user is not in`,
        match: (x) => x.type === "error" && x.conversationId === conv && (echo === undefined || x.clientId === echo),
        check: (x) =>
          x.code === "conversation_not_found" ? null : `code ${String(x.code)}, not conversation_not_found`,
      };
    }
    switch (f.type) {
      case "send": {
        const body = isObject(f.body) ? f.body : {};
        const foreignFile = f.kind === "file" && body.fileId !== this.fx.files.own;
        return {
          what: "ack or error for the send",
          match: (x) => (x.type === "ack" || x.type === "error") && x.clientId === echo,
          check: (x) =>
            x.type === "ack" && foreignFile
              ? `a file message with a file that is not the sender's (${String(body.fileId)}) was acked`
              : null,
        };
      }
      case "edit":
      case "recall": {
        // An edit's body is checked against the message's kind by the object, after the sender
        // check: a body that is no object is refused, by whichever check comes first.
        const own = this.fx.messages.own.includes(String(f.messageId));
        const done = f.type === "edit" ? "edited" : "recalled";
        return {
          what: `${done} or error`,
          match: (x) =>
            (x.type === done || x.type === "error") &&
            x.conversationId === conv &&
            (echo === undefined || x.clientId === echo),
          check: (x) => {
            if (x.type !== done) return null;
            if (!own) return `${done} a message that is not the user's (${String(f.messageId)})`;
            return f.type === "edit" && !isObject(f.body)
              ? `edited with a body that is no object (${JSON.stringify(f.body)})`
              : null;
          },
        };
      }
      case "sync": {
        const asked = Object.keys(isObject(f.cursors) ? f.cursors : {}).filter((id) => id !== "__proto__");
        return {
          what: "synced",
          match: (x) => x.type === "synced",
          check: (x, since) => {
            const cursors = isObject(x.cursors) ? x.cursors : {};
            const missing = asked.filter((id) => this.mine.has(id) && !(id in cursors));
            if (missing.length) return `synced lacks the user's conversations ${missing.join(", ")}`;
            const unanswered = asked.filter(
              (id) => !this.mine.has(id) && !since.some((y) => y.type === "error" && y.conversationId === id),
            );
            return unanswered.length
              ? `no error for ${unanswered.length} conversations the user is not in (${unanswered[0]})`
              : null;
          },
        };
      }
      case "ping":
        return { what: "pong", match: (x) => x.type === "pong" };
      case "presence_sync":
        return { what: "presence_snapshot", match: (x) => x.type === "presence_snapshot" };
      default:
        return null;
    }
  }

  /** The socket still works: a canonical ping gets its pong, a real send its ack. */
  private async probe(index: number): Promise<void> {
    const from = this.sock.frames.length;
    const clientId = `probe-${index}-${crypto.randomUUID()}`;
    const send = JSON.stringify({
      type: "send",
      conversationId: this.fx.mine[0],
      clientId,
      body: { text: "still here" },
    });
    const label = `liveness after case #${index}`;
    if (!this.send('{"type":"ping"}') || !this.send(send)) {
      this.fail("the socket refused the liveness probe", label, -1, send, from);
      return this.open();
    }
    const pong = await this.wait(from, (x) => x.type === "pong");
    if (!("frame" in pong))
      this.fail("a ping after a batch of hostile frames got no pong", label, -1, '{"type":"ping"}', from);
    const ack = await this.wait(from, (x) => (x.type === "ack" || x.type === "error") && x.clientId === clientId);
    if (!("frame" in ack) || ack.frame.type !== "ack")
      this.fail("a valid send after a batch of hostile frames got no ack", label, -1, send, from);
    if (this.sock.closeInfo()) await this.open();
  }

  /** No frame on any socket names a conversation the user is not in. */
  private leaks(): void {
    for (const s of this.sockets) {
      for (const f of s.frames) {
        const scoped = SCOPED.has(f.type) && typeof f.conversationId === "string" && !this.mine.has(f.conversationId);
        const synced =
          f.type === "synced" && isObject(f.cursors) && Object.keys(f.cursors).some((id) => !this.mine.has(id));
        if (scoped || synced)
          this.result.failures.push({
            why: `a ${f.type} frame about a conversation the user is not in`,
            label: "leak",
            index: -1,
            sent: "",
            answers: [f],
          });
      }
    }
  }
}
