/**
 * Running Hrana statements, batches, sequences and describes on a namespace connection.
 * Everything here is synchronous: the caller holds the namespace lock for the whole request.
 */
import type { NamespaceDb } from "./database.js";
import { protocolError, sqliteToStmtError, StmtError } from "./errors.js";
import type { BatchCond, BatchResult, Col, DescribeResult, HranaBatch, HranaStmt, StmtResult } from "./hrana.js";
import { analyzeSql, isInsert, isReadonly, type SqlInfo } from "./sql.js";
import { decodeValue, encodeValue, type BindValue } from "./values.js";

/** SQL texts stored on a stream with `store_sql`, by `sql_id`. */
export type SqlStore = Map<number, string>;

/** Resolve `sql` / `sql_id` to SQL text; a bad reference is a protocol error, as in sqld. */
export function resolveSql(sql: string | null | undefined, sqlId: number | null | undefined, sqls: SqlStore): string {
  const hasSql = sql !== null && sql !== undefined;
  const hasId = sqlId !== null && sqlId !== undefined;
  if (hasSql && hasId) throw protocolError("Both `sql` and `sql_id` were given");
  if (hasSql) return sql;
  if (!hasId) throw protocolError("Neither `sql` nor `sql_id` was given");
  const stored = sqls.get(sqlId);
  if (stored === undefined) throw protocolError(`SQL text with id ${sqlId} was not found`);
  return stored;
}

/** A statement checked and ready to run (sqld does these checks before executing anything). */
interface PreparedStep {
  sql: string;
  info: SqlInfo;
  args: BindValue[];
  named: Map<string, BindValue> | null;
  wantRows: boolean;
}

function prepareStep(stmt: HranaStmt, sqls: SqlStore): PreparedStep {
  const sql = resolveSql(stmt.sql, stmt.sql_id, sqls);
  const info = analyzeSql(sql);
  if (info.statementCount === 0) throw new StmtError("SQL_NO_STATEMENT", "SQL string does not contain any statement");
  if (info.statementCount > 1)
    throw new StmtError("SQL_MANY_STATEMENTS", "SQL string contains more than one statement");
  const args = (stmt.args ?? []).map(decodeValue);
  const namedArgs = stmt.named_args ?? [];
  if (args.length > 0 && namedArgs.length > 0) {
    throw new StmtError(
      "ARGS_BOTH_POSITIONAL_AND_NAMED",
      "Specifying both positional and named arguments is not supported",
    );
  }
  const named = namedArgs.length > 0 ? new Map(namedArgs.map((a) => [a.name, decodeValue(a.value)])) : null;
  return { sql, info, args, named, wantRows: stmt.want_rows ?? true };
}

function argsInvalid(detail: string): StmtError {
  return new StmtError("ARGS_INVALID", `Arguments do not match SQL parameters: ${detail}`);
}

/**
 * Build the positional parameter array the way sqld's binder does: `?NNN` and `?` take positional
 * arguments, `:a`/`@a`/`$a` take the named argument with or without its prefix, and a parameter
 * without a value is an error (except under EXPLAIN). Always an array: `libsql` aborts the process
 * on some object bindings and on a bare Buffer.
 */
function bindArgs(step: PreparedStep): BindValue[] {
  const names = step.info.paramNames;
  const given = step.named !== null ? step.named.size : step.args.length;
  if (given > names.length) throw argsInvalid(`too many parameters, expected ${names.length} found ${given}`);
  const out: BindValue[] = [];
  for (let index = 1; index <= names.length; index++) {
    const name = names[index - 1] ?? null;
    let value: BindValue | undefined;
    if (name === null) {
      value = step.named === null ? step.args[index - 1] : undefined;
    } else if (name.startsWith("?")) {
      value = step.named === null ? step.args[Number(name.slice(1)) - 1] : undefined;
    } else if (step.named !== null) {
      // `has`, not `??`: a NULL argument is a value.
      const key = step.named.has(name) ? name : name.slice(1);
      if (step.named.has(key)) value = step.named.get(key);
    }
    if (value === undefined) {
      if (!step.info.isExplain) throw argsInvalid(`value for parameter ${name ?? index} not found`);
      value = null;
    }
    out.push(value);
  }
  return out;
}

function columnsOf(stmt: ReturnType<NamespaceDb["prepare"]>): Col[] {
  if (!stmt.reader) return [];
  return stmt.columns().map((c) => ({ name: c.name, decltype: c.type ?? null }));
}

/**
 * A cached statement whose table was dropped fails while running, where a fresh statement would
 * fail to compile (SQL_INPUT_ERROR, as sqld reports it). Recompile to tell the two apart.
 */
function classifyRunError(db: NamespaceDb, sql: string, err: unknown): StmtError {
  const runError = sqliteToStmtError(err, "run");
  if (runError.code !== "SQLITE_UNKNOWN") return runError;
  db.forget(sql);
  try {
    db.prepare(sql);
  } catch (prepareErr) {
    return sqliteToStmtError(prepareErr, "prepare");
  }
  return runError;
}

function runStep(db: NamespaceDb, step: PreparedStep): StmtResult {
  if (step.info.verb === "PRAGMA") db.markSessionDirty();
  let stmt;
  try {
    stmt = db.prepare(step.sql);
  } catch (err) {
    throw sqliteToStmtError(err, "prepare");
  }
  const params = bindArgs(step);
  const before = db.counters().total;
  const rows: StmtResult["rows"] = [];
  try {
    if (stmt.reader) {
      for (const row of stmt.iterate(params)) {
        if (step.wantRows && Array.isArray(row)) rows.push(row.map(encodeValue));
      }
    } else {
      stmt.run(params);
    }
  } catch (err) {
    throw classifyRunError(db, step.sql, err);
  }
  // Columns are read after running: a cached statement is re-prepared by SQLite on its first step
  // after a schema change (ALTER TABLE, DROP/CREATE), and only then reports the new columns.
  const cols = columnsOf(stmt);
  const after = db.counters();
  // changes() is stale after statements that change nothing (DDL, SELECT); total_changes() moves
  // only when rows were written, and then changes() is fresh (and, like sqld, excludes triggers).
  const affected = after.total !== before ? Number(after.changes) : 0;
  return {
    cols,
    rows,
    affected_row_count: affected,
    last_insert_rowid: isInsert(step.info) ? after.lastRowid.toString() : null,
    rows_read: 0,
    rows_written: 0,
  };
}

/** Hrana `execute`. Throws StmtError (request-level error) or HttpError (protocol violation). */
export function executeStmt(db: NamespaceDb, stmt: HranaStmt, sqls: SqlStore): StmtResult {
  return runStep(db, prepareStep(stmt, sqls));
}

function evalCond(cond: BatchCond, ok: boolean[], autocommit: boolean): boolean {
  switch (cond.type) {
    case "ok":
      return ok[cond.step] === true;
    case "error":
      // sqld evaluates `error` as "did not succeed", so a skipped step counts as failed.
      return ok[cond.step] !== true;
    case "not":
      return !evalCond(cond.cond, ok, autocommit);
    case "and":
      return cond.conds.every((c) => evalCond(c, ok, autocommit));
    case "or":
      return cond.conds.some((c) => evalCond(c, ok, autocommit));
    case "is_autocommit":
      return autocommit;
  }
}

function checkCondSteps(cond: BatchCond, stepIndex: number): void {
  if (cond.type === "ok" || cond.type === "error") {
    if (cond.step >= stepIndex)
      throw protocolError(`Batch condition refers to step ${cond.step}, not before step ${stepIndex}`);
  } else if (cond.type === "not") {
    checkCondSteps(cond.cond, stepIndex);
  } else if (cond.type === "and" || cond.type === "or") {
    for (const c of cond.conds) checkCondSteps(c, stepIndex);
  }
}

/**
 * Validate a whole batch before running any step, as sqld does: bad references are protocol
 * errors, and statement-shape or syntax errors fail the batch request as a whole.
 */
function prepareBatch(db: NamespaceDb, batch: HranaBatch, sqls: SqlStore): PreparedStep[] {
  const steps = batch.steps.map((s, i) => {
    if (s.condition !== null && s.condition !== undefined) checkCondSteps(s.condition, i);
    return prepareStep(s.stmt, sqls);
  });
  for (const s of steps) {
    try {
      db.prepare(s.sql);
    } catch (err) {
      // Only syntax errors are caught up front; "no such table" may be fixed by an earlier step.
      const e = sqliteToStmtError(err, "prepare");
      if (e.code === "SQL_PARSE_ERROR") throw e;
    }
  }
  return steps;
}

/** Hrana `batch`: run the steps whose conditions hold; per-step results and errors. */
export function executeBatch(db: NamespaceDb, batch: HranaBatch, sqls: SqlStore): BatchResult {
  const steps = prepareBatch(db, batch, sqls);
  const ok: boolean[] = [];
  const result: BatchResult = { step_results: [], step_errors: [] };
  steps.forEach((step, i) => {
    const cond = batch.steps[i]?.condition;
    const enabled = cond === null || cond === undefined ? true : evalCond(cond, ok, db.isAutocommit);
    if (!enabled) {
      ok.push(false);
      result.step_results.push(null);
      result.step_errors.push(null);
      return;
    }
    try {
      result.step_results.push(runStep(db, step));
      result.step_errors.push(null);
      ok.push(true);
    } catch (err) {
      if (!(err instanceof StmtError)) throw err;
      result.step_results.push(null);
      result.step_errors.push(err.toHrana());
      ok.push(false);
    }
  });
  return result;
}

/**
 * Hrana `sequence`: several statements without arguments or results. `libsql`'s exec runs them in
 * order and stops at the first error (sqld also rejects a syntax error in a later statement before
 * running the earlier ones; exec cannot).
 */
export function executeSequence(db: NamespaceDb, sql: string): void {
  try {
    db.exec(sql);
  } catch (err) {
    throw sqliteToStmtError(err, "prepare");
  }
}

/** Hrana `describe`: parameters and columns of a statement, without running it. */
export function describeSql(db: NamespaceDb, sql: string): DescribeResult {
  const info = analyzeSql(sql);
  if (info.statementCount === 0) throw new StmtError("SQL_NO_STATEMENT", "SQL string does not contain any statement");
  if (info.statementCount > 1)
    throw new StmtError("SQL_MANY_STATEMENTS", "SQL string contains more than one statement");
  let stmt;
  try {
    stmt = db.prepare(sql, false); // fresh, so the columns reflect the current schema
  } catch (err) {
    throw sqliteToStmtError(err, "prepare");
  }
  return {
    params: info.paramNames.map((name) => ({ name })),
    cols: columnsOf(stmt),
    is_explain: info.isExplain,
    is_readonly: isReadonly(info),
  };
}
