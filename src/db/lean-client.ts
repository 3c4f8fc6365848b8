import { LibsqlError, type Client, type InArgs, type InStatement, type ResultSet, type Row } from "@libsql/client/web";
import type { TextAnswer } from "./client";

/**
 * A libSQL client whose `execute` of one statement outside a transaction is a single Hrana
 * pipeline request (`execute` + `close`, the same bytes `@libsql/client` sends) decoded straight
 * into its result, and which hands everything else (batches, transactions, named arguments) to
 * the full client it wraps. `@libsql/client` runs each statement through a stream object, a
 * concurrency queue, its own JSON codec, an `Error` built at every stream close and a row built
 * by `Object.defineProperty` per column: on `GET /v1/tenant` that machinery cost more than the
 * round trip's own work in the Worker (docs/performance.md, "Profiles"). Results and errors are
 * the same as the full client's: a `ResultSet` whose rows answer by index and by column name
 * (names enumerable, indexes and `length` not), integers as numbers (a RangeError beyond 2^53),
 * a SQL error as a `LibsqlError` with the server's code, a 5xx as `SERVER_ERROR`, and what the
 * fetch itself throws (timeouts, an open breaker, a lost connection) as it is.
 */
export function leanClient(full: Client, pipelineUrl: string, token: string | undefined, fetcher: Fetcher): Client {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const execute = async (stmtOrSql: InStatement | string, args?: InArgs): Promise<ResultSet> => {
    const stmt = typeof stmtOrSql === "string" ? { sql: stmtOrSql, args: args ?? [] } : stmtOrSql;
    const positional = encodeArgs(stmt.args ?? []);
    if (positional === undefined) return full.execute(stmt);
    const body = `{"baton":null,"requests":[{"type":"execute","stmt":{"sql":${JSON.stringify(stmt.sql)},"args":${positional},"named_args":[],"want_rows":true}},{"type":"close"}]}`;
    const res = await fetcher(pipelineUrl, { method: "POST", headers, body });
    if (!res.ok) throw httpError(res);
    const answer = JSON.parse(res.text) as { results: PipelineResult[] };
    const result = answer.results[0];
    if (!result) throw new LibsqlError("The server answered no result", "HRANA_PROTO_ERROR");
    if (result.type === "error") throw sqlError(result.error);
    return resultSet(result.response.result);
  };
  return new Proxy(full, {
    get(target, prop) {
      if (prop === "execute") return execute;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Sends one request and reads its answer whole (with the timeout, breaker and span of db/client.ts boundedText). */
type Fetcher = (url: string, init: RequestInit) => Promise<TextAnswer>;

interface HranaError {
  message: string;
  code?: string | null;
}

type PipelineResult =
  | { type: "ok"; response: { type: "execute"; result: StmtResult } }
  | { type: "error"; error: HranaError };

interface StmtResult {
  cols: { name: string | null; decltype?: string | null }[];
  rows: HranaValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
}

type HranaValue =
  | { type: "null" }
  | { type: "integer"; value: string }
  | { type: "float"; value: number }
  | { type: "text"; value: string }
  | { type: "blob"; base64: string };

/** Positional arguments as Hrana JSON values, or undefined when the statement has named ones. */
function encodeArgs(args: InArgs): string | undefined {
  if (!Array.isArray(args)) return Object.keys(args).length === 0 ? "[]" : undefined;
  const out: string[] = [];
  for (const v of args) out.push(encodeValue(v));
  return `[${out.join(",")}]`;
}

function encodeValue(v: unknown): string {
  if (v === null || v === undefined) return '{"type":"null"}';
  if (typeof v === "string") return `{"type":"text","value":${JSON.stringify(v)}}`;
  if (typeof v === "number") {
    if (!Number.isFinite(v))
      throw new RangeError("Only finite numbers (not Infinity or NaN) can be passed as arguments");
    return `{"type":"float","value":${v}}`;
  }
  if (typeof v === "bigint") {
    if (v < -9223372036854775808n || v > 9223372036854775807n)
      throw new RangeError(
        "This bigint value is too large to be represented as a 64-bit integer and passed as argument",
      );
    return `{"type":"integer","value":"${v}"}`;
  }
  if (typeof v === "boolean") return `{"type":"integer","value":"${v ? 1 : 0}"}`;
  if (v instanceof ArrayBuffer) return blob(new Uint8Array(v));
  if (v instanceof Uint8Array) return blob(v);
  if (v instanceof Date) return `{"type":"float","value":${v.valueOf()}}`;
  if (typeof v === "object") return `{"type":"text","value":${JSON.stringify(String(v))}}`;
  throw new TypeError("Unsupported type of value");
}

/** Standard base64 of bytes (what Hrana's blobs and the full client's JSON use). */
function base64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

const blob = (bytes: Uint8Array): string => `{"type":"blob","base64":"${base64(bytes)}"}`;

function decodeValue(v: HranaValue): Row[number] {
  switch (v.type) {
    case "null":
      return null;
    case "integer": {
      const n = Number(v.value);
      if (!Number.isSafeInteger(n))
        throw new RangeError("Received integer which is too large to be safely represented as a JavaScript number");
      return n;
    }
    case "float":
    case "text":
      return v.value;
    case "blob": {
      const s = atob(v.base64);
      const bytes = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
      return bytes.buffer;
    }
    default:
      throw new LibsqlError("Unexpected type of value", "HRANA_PROTO_ERROR");
  }
}

/** The values of a row, behind its index getters (symbol-keyed: not enumerable by name, not in JSON). */
const VALUES = Symbol("values");

/** One prototype per row width: index getters and `length`, made once and shared by every row. */
const prototypes: object[] = [];
function rowPrototype(width: number): object {
  let proto = prototypes[width];
  if (!proto) {
    const props: PropertyDescriptorMap = {
      length: { get: () => width },
    };
    for (let i = 0; i < width; i++)
      props[i] = {
        get(this: { [VALUES]: Row[number][] }) {
          return this[VALUES][i];
        },
      };
    proto = Object.create(Object.prototype, props) as object;
    prototypes[width] = proto;
  }
  return proto;
}

/** Whether a row already answers to `name` by itself: `length`, or an index below its width. */
function ownedByRow(name: string, width: number): boolean {
  const index = Number(name);
  return name === "length" || (Number.isInteger(index) && index >= 0 && String(index) === name && index < width);
}

function resultSet(r: StmtResult): ResultSet {
  const columns = r.cols.map((c) => c.name ?? "");
  const columnTypes = r.cols.map((c) => c.decltype ?? "");
  const width = columns.length;
  const proto = rowPrototype(width);
  // A column name is set once (the first of duplicates), never over an index or `length`, as the full client does.
  const named = columns.map((name, i) => (columns.indexOf(name) === i && !ownedByRow(name, width) ? name : null));
  const rows = r.rows.map((values) => {
    const decoded = values.map(decodeValue);
    const row = Object.create(proto) as Record<string | symbol, unknown>;
    row[VALUES] = decoded;
    for (let i = 0; i < width; i++) {
      const name = named[i];
      if (name !== null && name !== undefined) row[name] = decoded[i];
    }
    return row as unknown as Row;
  });
  const lastInsertRowid =
    r.last_insert_rowid === null || r.last_insert_rowid === undefined ? undefined : BigInt(r.last_insert_rowid);
  return {
    columns,
    columnTypes,
    rows,
    rowsAffected: r.affected_row_count,
    lastInsertRowid,
    toJSON() {
      return {
        columns,
        columnTypes,
        rows: rows.map((row) =>
          Array.prototype.map.call(row, (v: unknown) => (v instanceof ArrayBuffer ? base64(new Uint8Array(v)) : v)),
        ),
        rowsAffected: r.affected_row_count,
        lastInsertRowid: lastInsertRowid === undefined ? null : `${lastInsertRowid}`,
      };
    },
  };
}

/** A statement's error, as the full client reports it. */
function sqlError(e: HranaError): LibsqlError {
  return new LibsqlError(e.message, e.code ?? "UNKNOWN");
}

/** A refused request, as the full client reports it: the server's error when it sent one, else SERVER_ERROR. */
function httpError(res: TextAnswer): LibsqlError {
  const message = `Server returned HTTP status ${res.status}`;
  const type = res.contentType || "text/plain";
  if (type === "application/json") {
    const body = JSON.parse(res.text) as Partial<HranaError>;
    if (typeof body.message === "string") return sqlError({ message: body.message, code: body.code ?? null });
    return new LibsqlError(message, "SERVER_ERROR");
  }
  const text = type === "text/plain" ? res.text.trim() : "";
  return new LibsqlError(text ? `${message}: ${text}` : message, "SERVER_ERROR");
}

/**
 * The Hrana pipeline URL the full client would post to for `url` (a `libsql:` URL is HTTPS, or
 * HTTP with `?tls=0`), or undefined for a URL it would treat in a way this client does not (other
 * schemes or query parameters): then the full client serves every statement.
 */
export function pipelineUrlOf(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const tls = u.searchParams.get("tls");
  if ([...u.searchParams.keys()].some((k) => k !== "tls")) return undefined;
  let scheme = u.protocol;
  if (scheme === "libsql:") scheme = tls === "0" ? "http:" : "https:";
  else if (tls !== null) return undefined;
  if (scheme !== "http:" && scheme !== "https:") return undefined;
  return new URL("v2/pipeline", `${scheme}//${u.host}${u.pathname}`).href;
}
