/**
 * RESP2, the Redis wire protocol: encoding commands and incrementally parsing replies.
 * Only what a client needs: commands go out as arrays of bulk strings; replies come back as
 * simple strings, errors, integers, bulk strings and (nested) arrays.
 */

/** An error reply (`-ERR …`). A value, not an exception: one failed command is not a failed pipeline. */
export class RespError {
  constructor(readonly message: string) {}
}

/**
 * One decoded reply: a simple string is a `string`, a bulk string a `Buffer` (binary safe), an
 * integer a `number`, a null bulk string or null array `null`.
 */
export type RespValue = string | Buffer | number | null | RespError | RespValue[];

const CRLF = Buffer.from("\r\n");

/** Encode one command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const data = Buffer.from(arg, "utf8");
    parts.push(Buffer.from(`$${data.length}\r\n`), data, CRLF);
  }
  return Buffer.concat(parts);
}

type Parsed = [value: RespValue, next: number];

/** Parse one reply starting at `pos`; undefined when the buffer does not hold all of it yet. */
function parseAt(buf: Buffer, pos: number): Parsed | undefined {
  const end = buf.indexOf(CRLF, pos);
  if (end < 0) return undefined;
  const line = buf.toString("utf8", pos + 1, end);
  const next = end + 2;
  switch (buf[pos]) {
    case 0x2b: // '+'
      return [line, next];
    case 0x2d: // '-'
      return [new RespError(line), next];
    case 0x3a: // ':'
      return [Number(line), next];
    case 0x24: {
      // '$'
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return undefined;
      // Copy: the parser's buffer is sliced and reused as more data arrives.
      return [Buffer.from(buf.subarray(next, next + len)), next + len + 2];
    }
    case 0x2a: {
      // '*'
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: RespValue[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseAt(buf, at);
        if (item === undefined) return undefined;
        items.push(item[0]);
        at = item[1];
      }
      return [items, at];
    }
    default:
      throw new Error(`RESP: unexpected type byte 0x${(buf[pos] ?? 0).toString(16)}`);
  }
}

/** Accumulates bytes from a socket and yields every complete reply, in order. */
export class RespParser {
  private buf: Buffer = Buffer.alloc(0);

  /** Feed a chunk; returns the replies it completed (possibly none). Throws on a protocol error. */
  push(chunk: Buffer): RespValue[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: RespValue[] = [];
    let pos = 0;
    while (pos < this.buf.length) {
      const parsed = parseAt(this.buf, pos);
      if (parsed === undefined) break;
      out.push(parsed[0]);
      pos = parsed[1];
    }
    this.buf = this.buf.subarray(pos);
    return out;
  }

  reset(): void {
    this.buf = Buffer.alloc(0);
  }
}
