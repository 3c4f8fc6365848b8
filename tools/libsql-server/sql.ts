/**
 * A small SQL scanner that answers the questions sqld answers with its own SQL parser and that the
 * `libsql` package cannot: how many statements a string holds (libsql's `prepare` silently ignores
 * everything after the first one), what kind of statement comes first (sqld reports
 * `last_insert_rowid` only for INSERTs) and which parameters it declares (so arguments can be bound
 * positionally, exactly like sqld's binder, instead of through libsql's named binding, which
 * panics and aborts the process when a nameless `?` meets an object of named values).
 *
 * Tokenisation follows SQLite's tokenizer.c; statement splitting follows `sqlite3_complete()`,
 * so `CREATE TRIGGER … BEGIN …; …; END;` counts as one statement.
 */

/** What the server needs to know about a SQL text. */
export interface SqlInfo {
  /** Number of non-empty statements. */
  readonly statementCount: number;
  /** Upper-case verb of the first statement; for `WITH …` the verb of its main clause. */
  readonly verb: string;
  /** The first statement starts with EXPLAIN. */
  readonly isExplain: boolean;
  /** `sqlite3_bind_parameter_name()` for parameters 1..n of the first statement (null for `?`). */
  readonly paramNames: ReadonlyArray<string | null>;
}

// Token classes of sqlite3_complete()'s state machine.
const SEMI = 0;
const WS = 1;
const OTHER = 2;
const EXPLAIN = 3;
const CREATE = 4;
const TEMP = 5;
const TRIGGER = 6;
const END = 7;

// TRANSITIONS[state][token] from sqlite3_complete(); states: 0 invalid, 1 start, 2 normal,
// 3 explain, 4 create, 5 trigger, 6 semicolon inside a trigger, 7 END inside a trigger.
const TRANSITIONS: ReadonlyArray<ReadonlyArray<number>> = [
  [1, 0, 2, 3, 4, 2, 2, 2],
  [1, 1, 2, 3, 4, 2, 2, 2],
  [1, 2, 2, 2, 2, 2, 2, 2],
  [1, 3, 3, 2, 4, 2, 2, 2],
  [1, 4, 2, 2, 2, 4, 5, 2],
  [6, 5, 5, 5, 5, 5, 5, 5],
  [6, 6, 5, 5, 5, 5, 5, 7],
  [1, 7, 5, 5, 5, 5, 5, 5],
];

const MAIN_VERBS = new Set(["SELECT", "INSERT", "REPLACE", "UPDATE", "DELETE", "VALUES"]);

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 0x80;
}
/** SQLite's IdChar(): letters, digits, `_`, `$` and every non-ASCII code unit. */
function isIdChar(c: number): boolean {
  return isIdStart(c) || isDigit(c) || c === 36;
}

/** Index just past a quoted token that starts at `i` and ends with `close` (doubled = escaped). */
function skipQuoted(sql: string, i: number, close: string): number {
  let j = i + 1;
  for (;;) {
    const k = sql.indexOf(close, j);
    if (k < 0) return sql.length;
    if (close !== "]" && sql[k + 1] === close) {
      j = k + 2;
      continue;
    }
    return k + 1;
  }
}

/** Length of a `:name`, `@name` or `$name` variable at `i` (0 if it is not a valid one). */
function variableLength(sql: string, i: number): number {
  let n = 0;
  let j = i + 1;
  for (; j < sql.length; j++) {
    const c = sql.charCodeAt(j);
    if (isIdChar(c)) {
      n++;
    } else if (c === 40 /* ( */ && n > 0) {
      // Tcl-style `$name(suffix)`
      const close = sql.indexOf(")", j);
      return close < 0 ? 0 : close + 1 - i;
    } else if (c === 58 /* : */ && sql.charCodeAt(j + 1) === 58) {
      j++; // Tcl-style `$a::b`
    } else {
      break;
    }
  }
  return n === 0 ? 0 : j - i;
}

class Analyzer {
  statementCount = 0;
  verb = "";
  isExplain = false;
  private state = 0;
  private firstWord = "";
  private depth = 0;
  private readonly nameOf = new Map<number, string>();
  private readonly indexOf = new Map<string, number>();
  private nVar = 0;

  /** True while tokens belong to the first non-empty statement. */
  private get inFirst(): boolean {
    return this.statementCount === 0;
  }

  token(kind: number, word: string): void {
    if (this.inFirst && kind !== WS && kind !== SEMI) this.observe(word);
    const next = TRANSITIONS[this.state]?.[kind] ?? 2;
    if (kind === SEMI && next === 1 && this.state >= 2) this.statementCount++;
    this.state = next;
  }

  variable(text: string): void {
    if (this.inFirst) this.assignVariable(text);
    this.token(OTHER, "");
  }

  finish(): SqlInfo {
    if (this.state >= 2) this.statementCount++;
    const paramNames: Array<string | null> = [];
    for (let i = 1; i <= this.nVar; i++) paramNames.push(this.nameOf.get(i) ?? null);
    return {
      statementCount: this.statementCount,
      verb: this.verb,
      isExplain: this.isExplain,
      paramNames,
    };
  }

  private observe(word: string): void {
    if (word === "(") this.depth++;
    else if (word === ")") this.depth--;
    if (word === "" || word === "(" || word === ")") return;
    if (this.firstWord === "") {
      this.firstWord = word;
      this.isExplain = word === "EXPLAIN";
      this.verb = word === "WITH" ? "" : word;
    } else if (this.firstWord === "WITH" && this.verb === "" && this.depth === 0 && MAIN_VERBS.has(word)) {
      this.verb = word;
    }
  }

  /** sqlite3ExprAssignVarNumber(): how SQLite numbers `?`, `?NNN` and named parameters. */
  private assignVariable(text: string): void {
    if (text === "?") {
      this.nVar++;
      return;
    }
    if (text.startsWith("?")) {
      const x = Number.parseInt(text.slice(1), 10);
      if (!(x >= 1 && x <= 32766)) return; // SQLite rejects it at prepare time
      if (x > this.nVar) this.nVar = x;
      if (!this.nameOf.has(x)) this.nameOf.set(x, text);
      return;
    }
    if (this.indexOf.has(text)) return;
    const x = ++this.nVar;
    this.indexOf.set(text, x);
    if (!this.nameOf.has(x)) this.nameOf.set(x, text);
  }
}

function keywordKind(upper: string): number {
  switch (upper) {
    case "EXPLAIN":
      return EXPLAIN;
    case "CREATE":
      return CREATE;
    case "TEMP":
    case "TEMPORARY":
      return TEMP;
    case "TRIGGER":
      return TRIGGER;
    case "END":
      return END;
    default:
      return OTHER;
  }
}

function scan(sql: string): SqlInfo {
  const a = new Analyzer();
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    const ch = sql[i] ?? "";
    if (isSpace(c)) {
      while (i < n && isSpace(sql.charCodeAt(i))) i++;
      a.token(WS, "");
    } else if (ch === "-" && sql[i + 1] === "-") {
      const eol = sql.indexOf("\n", i);
      i = eol < 0 ? n : eol + 1;
      a.token(WS, "");
    } else if (ch === "/" && sql[i + 1] === "*") {
      const close = sql.indexOf("*/", i + 2);
      i = close < 0 ? n : close + 2;
      a.token(WS, "");
    } else if (ch === "'" || ch === '"' || ch === "`" || ch === "[") {
      i = skipQuoted(sql, i, ch === "[" ? "]" : ch);
      a.token(OTHER, '"');
    } else if (ch === ";") {
      i++;
      a.token(SEMI, "");
    } else if (ch === "?") {
      let j = i + 1;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      a.variable(sql.slice(i, j));
      i = j;
    } else if (ch === ":" || ch === "@" || ch === "$") {
      const len = variableLength(sql, i);
      if (len > 0) {
        a.variable(sql.slice(i, i + len));
        i += len;
      } else {
        i++;
        a.token(OTHER, ch);
      }
    } else if (isIdStart(c)) {
      let j = i + 1;
      while (j < n && isIdChar(sql.charCodeAt(j))) j++;
      const upper = sql.slice(i, j).toUpperCase();
      i = j;
      a.token(keywordKind(upper), upper);
    } else if (isDigit(c) || (ch === "." && isDigit(sql.charCodeAt(i + 1)))) {
      let j = i + 1;
      while (j < n) {
        const d = sql[j] ?? "";
        const isExpSign = (d === "+" || d === "-") && /[eE]/.test(sql[j - 1] ?? "");
        if (!/[0-9A-Za-z_.]/.test(d) && !isExpSign) break;
        j++;
      }
      i = j;
      a.token(OTHER, "0");
    } else {
      i++;
      a.token(OTHER, ch);
    }
  }
  return a.finish();
}

const cache = new Map<string, SqlInfo>();
const CACHE_LIMIT = 512;

/** Analyze a SQL text (memoized: clients send the same statements over and over). */
export function analyzeSql(sql: string): SqlInfo {
  const hit = cache.get(sql);
  if (hit !== undefined) return hit;
  const info = scan(sql);
  // Very long texts (bulk inserts) are rarely repeated; keep the cache small and cheap.
  if (sql.length <= 16_384) {
    if (cache.size >= CACHE_LIMIT) {
      const oldest = cache.keys().next();
      if (oldest.done !== true) cache.delete(oldest.value);
    }
    cache.set(sql, info);
  }
  return info;
}

/** sqld reports `last_insert_rowid` only for INSERT statements (REPLACE is an INSERT). */
export function isInsert(info: SqlInfo): boolean {
  return info.verb === "INSERT" || info.verb === "REPLACE";
}

/** Approximation of `sqlite3_stmt_readonly()` for `describe` (libsql does not expose it). */
export function isReadonly(info: SqlInfo): boolean {
  return ["SELECT", "VALUES", "EXPLAIN", "BEGIN", "COMMIT", "END", "ROLLBACK"].includes(info.verb);
}
