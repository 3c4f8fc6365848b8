/**
 * Error types and the mapping from `libsql` (SQLite) errors to the Hrana errors sqld produces.
 *
 * sqld goes through rusqlite, whose `ErrorCode` enum has no variant for SQLITE_ERROR (1), EMPTY,
 * FORMAT, NOTICE or WARNING: those surface as `SQLITE_UNKNOWN`. Extended codes are reduced to
 * their primary code (`SQLITE_CONSTRAINT_UNIQUE` → `SQLITE_CONSTRAINT`). Errors found while
 * compiling a statement are reported the way sqld reports them: syntax errors (sqld's own parser)
 * as `SQL_PARSE_ERROR`, other compile errors (no such table/column …) as `SQL_INPUT_ERROR`.
 */

/** The `{ message, code }` error object of the Hrana protocol. */
export interface HranaError {
  message: string;
  code: string;
}

/**
 * An error that fails one Hrana request (reported inside `results` as `{type:"error"}`) or one
 * batch step, without failing the HTTP request.
 */
export class StmtError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "StmtError";
    this.code = code;
  }
  toHrana(): HranaError {
    return { message: this.message, code: this.code };
  }
}

/** An error that fails the whole HTTP request with a JSON body `{ error, message, code }`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.code = code;
  }
}

/** A violation of the Hrana protocol by the client: HTTP 400, like sqld. */
export function protocolError(message: string): HttpError {
  return new HttpError(400, "PROTOCOL_ERROR", message);
}

/** sqld's answer to a baton it does not know (expired, already used, or for another database). */
export function streamExpired(): HttpError {
  return new HttpError(400, "STREAM_EXPIRED", "The stream has expired due to inactivity");
}

const PRIMARY_CODES: ReadonlyMap<number, string> = new Map([
  [2, "SQLITE_INTERNAL"],
  [3, "SQLITE_PERM"],
  [4, "SQLITE_ABORT"],
  [5, "SQLITE_BUSY"],
  [6, "SQLITE_LOCKED"],
  [7, "SQLITE_NOMEM"],
  [8, "SQLITE_READONLY"],
  [9, "SQLITE_INTERRUPT"],
  [10, "SQLITE_IOERR"],
  [11, "SQLITE_CORRUPT"],
  [12, "SQLITE_NOTFOUND"],
  [13, "SQLITE_FULL"],
  [14, "SQLITE_CANTOPEN"],
  [15, "SQLITE_PROTOCOL"],
  [17, "SQLITE_SCHEMA"],
  [18, "SQLITE_TOOBIG"],
  [19, "SQLITE_CONSTRAINT"],
  [20, "SQLITE_MISMATCH"],
  [21, "SQLITE_MISUSE"],
  [22, "SQLITE_NOLFS"],
  [23, "SQLITE_AUTH"],
  [25, "SQLITE_RANGE"],
  [26, "SQLITE_NOTADB"],
]);

/** Primary result code names by number, for errors that carry only the textual code. */
const CODE_NUMBERS: ReadonlyMap<string, number> = new Map(
  [...PRIMARY_CODES.entries()].map(([num, name]) => [name, num] as const),
);

interface SqliteLikeError {
  message: string;
  code: string;
  rawCode: number | undefined;
}

function asSqliteError(err: unknown): SqliteLikeError | undefined {
  if (!(err instanceof Error)) return undefined;
  const { code, rawCode } = err as Error & { code?: unknown; rawCode?: unknown };
  if (typeof code !== "string" || !code.startsWith("SQLITE_")) return undefined;
  return { message: err.message, code, rawCode: typeof rawCode === "number" ? rawCode : undefined };
}

function primaryNumber(e: SqliteLikeError): number {
  if (e.rawCode !== undefined) return e.rawCode & 0xff;
  // Fall back to the textual code: the longest known primary name that prefixes it.
  for (const [name, num] of CODE_NUMBERS) {
    if (e.code === name || e.code.startsWith(`${name}_`)) return num;
  }
  return e.code === "SQLITE_ERROR" || e.code.startsWith("SQLITE_ERROR_") ? 1 : 0;
}

const SYNTAX_ERROR = /syntax error|unrecognized token|incomplete input/;

/**
 * Convert an error thrown by the `libsql` package into the Hrana error sqld would send.
 * `phase` tells whether it was thrown while compiling (prepare) or while running the statement.
 */
export function sqliteToStmtError(err: unknown, phase: "prepare" | "run"): StmtError {
  if (err instanceof StmtError) return err;
  const e = asSqliteError(err);
  if (e === undefined) {
    const message = err instanceof Error ? err.message : String(err);
    return new StmtError("SQLITE_UNKNOWN", `SQLite error: ${message}`);
  }
  const primary = primaryNumber(e);
  if (primary === 1) {
    if (SYNTAX_ERROR.test(e.message)) {
      return new StmtError("SQL_PARSE_ERROR", `SQL string could not be parsed: ${e.message}`);
    }
    if (phase === "prepare") {
      return new StmtError("SQL_INPUT_ERROR", `SQL input error: ${e.message}`);
    }
  }
  return new StmtError(PRIMARY_CODES.get(primary) ?? "SQLITE_UNKNOWN", `SQLite error: ${e.message}`);
}

/** True for errors that sqld would have caught with its own SQL parser before running anything. */
export function isParseError(err: StmtError): boolean {
  return err.code === "SQL_PARSE_ERROR";
}
