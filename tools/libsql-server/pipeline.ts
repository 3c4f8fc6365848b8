/**
 * The Hrana endpoints of one namespace: `…/v2/pipeline`, `…/v3/pipeline` and `…/v3/cursor`.
 * Requests of a pipeline run in order while the stream holds the namespace lock.
 */
import type { NamespaceDb } from "./database.js";
import { protocolError, StmtError } from "./errors.js";
import { describeSql, executeBatch, executeSequence, executeStmt, resolveSql } from "./execute.js";
import type {
  BatchResult,
  HranaBatch,
  PipelineRespBody,
  StreamRequest,
  StreamResponse,
  StreamResult,
} from "./hrana.js";
import type { Stream, StreamManager } from "./streams.js";

// sqld's limits on stored SQL texts per stream (the client stays below them when it can).
const MAX_STORED_SQL = 50;
const MAX_STORED_SQL_BYTES = 5000;

function handleRequest(stream: Stream, req: StreamRequest): StreamResponse {
  const { db, sqls } = stream;
  if (stream.closed && req.type !== "close" && req.type !== "store_sql" && req.type !== "close_sql") {
    throw protocolError("The stream has already been closed");
  }
  switch (req.type) {
    case "close":
      stream.closed = true;
      return { type: "close" };
    case "execute":
      return { type: "execute", result: executeStmt(db, req.stmt, sqls) };
    case "batch":
      return { type: "batch", result: executeBatch(db, req.batch, sqls) };
    case "sequence":
      executeSequence(db, resolveSql(req.sql, req.sql_id, sqls));
      return { type: "sequence" };
    case "describe":
      return { type: "describe", result: describeSql(db, resolveSql(req.sql, req.sql_id, sqls)) };
    case "store_sql":
      if (sqls.has(req.sql_id)) throw protocolError(`SQL text with id ${req.sql_id} already exists`);
      if (sqls.size >= MAX_STORED_SQL) {
        throw new StmtError(
          "SQL_STORE_TOO_MANY",
          `The server already stores ${sqls.size} SQL texts, it cannot store more`,
        );
      }
      if (Buffer.byteLength(req.sql) > MAX_STORED_SQL_BYTES) {
        throw new StmtError(
          "SQL_STORE_TOO_LARGE",
          `The statement is too large to be stored: ${Buffer.byteLength(req.sql)} B/5.0 KB`,
        );
      }
      sqls.set(req.sql_id, req.sql);
      return { type: "store_sql" };
    case "close_sql":
      sqls.delete(req.sql_id);
      return { type: "close_sql" };
    case "get_autocommit":
      return { type: "get_autocommit", is_autocommit: db.isAutocommit };
  }
}

/**
 * Claim the stream (new or by baton), wait for the lock, run `body` and hand the stream back.
 * On an HTTP-level failure the stream dies and its transaction is rolled back, like sqld.
 */
async function withStream<T>(
  streams: StreamManager,
  db: NamespaceDb,
  baton: string | null | undefined,
  body: (stream: Stream) => T,
): Promise<{ value: T; baton: string | null }> {
  const stream = baton === null || baton === undefined ? streams.open(db) : streams.take(baton, db);
  await streams.enter(stream);
  let value: T;
  try {
    value = body(stream);
  } catch (err) {
    streams.leave(stream, true);
    throw err;
  }
  return { value, baton: streams.leave(stream) };
}

/** Handle a pipeline body (already validated). */
export async function runPipeline(
  streams: StreamManager,
  db: NamespaceDb,
  body: { baton?: string | null | undefined; requests: StreamRequest[] },
): Promise<PipelineRespBody> {
  const { value: results, baton } = await withStream(streams, db, body.baton, (stream) =>
    body.requests.map((req): StreamResult => {
      try {
        return { type: "ok", response: handleRequest(stream, req) };
      } catch (err) {
        if (err instanceof StmtError) return { type: "error", error: err.toHrana() };
        throw err;
      }
    }),
  );
  return { baton, base_url: null, results };
}

/** Turn a batch outcome into the newline-delimited entries of a cursor response. */
function cursorEntries(result: BatchResult | StmtError): unknown[] {
  if (result instanceof StmtError) return [{ type: "error", error: result.toHrana() }];
  const entries: unknown[] = [];
  result.step_results.forEach((res, step) => {
    const error = result.step_errors[step];
    if (error !== null && error !== undefined) {
      entries.push({ type: "step_error", step, error });
    } else if (res !== null) {
      entries.push({ type: "step_begin", step, cols: res.cols });
      for (const row of res.rows) entries.push({ type: "row", row });
      entries.push({
        type: "step_end",
        affected_row_count: res.affected_row_count,
        last_insert_rowid: res.last_insert_rowid,
      });
    }
  });
  return entries;
}

/**
 * Handle a cursor body (already validated): returns the lines of the response, the first being
 * `{ baton, base_url }`. The batch runs to completion before streaming (the engine is synchronous
 * anyway), so the lock is never held while waiting on a slow reader.
 */
export async function runCursor(
  streams: StreamManager,
  db: NamespaceDb,
  body: { baton?: string | null | undefined; batch: HranaBatch },
): Promise<unknown[]> {
  const { value, baton } = await withStream(streams, db, body.baton, (stream): BatchResult | StmtError => {
    try {
      return executeBatch(stream.db, body.batch, stream.sqls);
    } catch (err) {
      if (err instanceof StmtError) return err;
      throw err;
    }
  });
  return [{ baton, base_url: null }, ...cursorEntries(value)];
}
