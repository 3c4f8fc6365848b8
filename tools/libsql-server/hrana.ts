/**
 * Hrana-over-HTTP protocol (JSON encoding, versions 2 and 3): request schemas (zod) and response
 * types. Field names are the wire names. Unknown fields are ignored, as sqld does, so newer clients
 * that send extras (e.g. `replication_index`) keep working.
 */
import { z } from "zod";

const integerValue = z.union([z.string(), z.number().int()]);

/** Schema of a Hrana value. */
export const valueSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("null") }),
  z.object({ type: z.literal("integer"), value: integerValue }),
  z.object({ type: z.literal("float"), value: z.number() }),
  z.object({ type: z.literal("text"), value: z.string() }),
  z.object({ type: z.literal("blob"), base64: z.string() }),
]);
/** A Hrana value as it appears on the wire. */
export type HranaValue = z.infer<typeof valueSchema>;

const sqlId = z.number().int();

/** Schema of a statement (`Stmt`). */
export const stmtSchema = z.object({
  sql: z.string().nullish(),
  sql_id: sqlId.nullish(),
  args: z.array(valueSchema).nullish(),
  named_args: z.array(z.object({ name: z.string(), value: valueSchema })).nullish(),
  want_rows: z.boolean().nullish(),
});
/** A statement as it appears on the wire. */
export type HranaStmt = z.infer<typeof stmtSchema>;

/** A batch step condition. */
export type BatchCond =
  | { type: "ok"; step: number }
  | { type: "error"; step: number }
  | { type: "not"; cond: BatchCond }
  | { type: "and"; conds: BatchCond[] }
  | { type: "or"; conds: BatchCond[] }
  | { type: "is_autocommit" };

const step = z.number().int().nonnegative();
/** Schema of a batch step condition (recursive). */
export const batchCondSchema: z.ZodType<BatchCond> = z.lazy(() =>
  z.discriminatedUnion("type", [
    z.object({ type: z.literal("ok"), step }),
    z.object({ type: z.literal("error"), step }),
    z.object({ type: z.literal("not"), cond: batchCondSchema }),
    z.object({ type: z.literal("and"), conds: z.array(batchCondSchema) }),
    z.object({ type: z.literal("or"), conds: z.array(batchCondSchema) }),
    z.object({ type: z.literal("is_autocommit") }),
  ]),
);

/** Schema of a batch. */
export const batchSchema = z.object({
  steps: z.array(z.object({ condition: batchCondSchema.nullish(), stmt: stmtSchema })),
});
/** A batch as it appears on the wire. */
export type HranaBatch = z.infer<typeof batchSchema>;

const sqlRef = { sql: z.string().nullish(), sql_id: sqlId.nullish() };

/** Schema of one request of a pipeline. */
export const streamRequestSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("close") }),
  z.object({ type: z.literal("execute"), stmt: stmtSchema }),
  z.object({ type: z.literal("batch"), batch: batchSchema }),
  z.object({ type: z.literal("sequence"), ...sqlRef }),
  z.object({ type: z.literal("describe"), ...sqlRef }),
  z.object({ type: z.literal("store_sql"), sql_id: sqlId, sql: z.string() }),
  z.object({ type: z.literal("close_sql"), sql_id: sqlId }),
  z.object({ type: z.literal("get_autocommit") }),
]);
/** One request of a pipeline. */
export type StreamRequest = z.infer<typeof streamRequestSchema>;

/** Schema of the body of `POST …/v2/pipeline` and `…/v3/pipeline`. */
export const pipelineReqSchema = z.object({
  baton: z.string().nullish(),
  requests: z.array(streamRequestSchema),
});

/** Schema of the body of `POST …/v3/cursor`. */
export const cursorReqSchema = z.object({
  baton: z.string().nullish(),
  batch: batchSchema,
});

/** Column description in a statement result. */
export interface Col {
  name: string | null;
  decltype: string | null;
}

/** Result of one statement. */
export interface StmtResult {
  cols: Col[];
  rows: HranaValue[][];
  affected_row_count: number;
  last_insert_rowid: string | null;
  rows_read: number;
  rows_written: number;
}

/** Result of a batch: one slot per step; both null when the step was skipped. */
export interface BatchResult {
  step_results: Array<StmtResult | null>;
  step_errors: Array<{ message: string; code: string } | null>;
}

/** Result of `describe`. */
export interface DescribeResult {
  params: Array<{ name: string | null }>;
  cols: Col[];
  is_explain: boolean;
  is_readonly: boolean;
}

/** Successful response to one pipeline request. */
export type StreamResponse =
  | { type: "close" }
  | { type: "execute"; result: StmtResult }
  | { type: "batch"; result: BatchResult }
  | { type: "sequence" }
  | { type: "describe"; result: DescribeResult }
  | { type: "store_sql" }
  | { type: "close_sql" }
  | { type: "get_autocommit"; is_autocommit: boolean };

/** Outcome of one pipeline request. */
export type StreamResult =
  | { type: "ok"; response: StreamResponse }
  | { type: "error"; error: { message: string; code: string } };

/** Body of a pipeline response. */
export interface PipelineRespBody {
  baton: string | null;
  base_url: string | null;
  results: StreamResult[];
}

/** Format a zod error as a one-line message for a 400 response. */
export function describeZodError(err: z.ZodError): string {
  const issue = err.issues[0];
  if (issue === undefined) return "Invalid request body";
  const where = issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
  return `Invalid request body${where}: ${issue.message}`;
}
