import { createRoute, z } from "@hono/zod-openapi";
import { reconcile } from "../../db/tenant/ledger";
import { type ExportCursor, type ExportEntry, ledgerExportPage } from "../../db/tenant/ledger-export";
import { iso } from "../../lib/time";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses, validationError } from "../gateway/http";
import { withPermission } from "../gateway/middleware/authn";
import { pagedCsv } from "../../lib/csv";
import { ReconciliationSchema } from "./schemas";

/** The ledger's reports for tenant admins (`ledger:read`): the reconciliation and the CSV export. */
export const reportRoutes = createRouter();
const tags = ["Ledger"];
const security = [{ bearer: [] }];

reportRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/ledger/reconciliation",
    operationId: "reconcileLedger",
    tags,
    security,
    middleware: withPermission("ledger:read"),
    summary: "Per currency the sum of all entries (0 in a whole ledger), user and system balances, and inconsistencies",
    description:
      "Read in one snapshot. Inconsistencies list rows breaking an invariant the schema is meant to make impossible (an account whose balance differs from its entries, an unbalanced transaction, a negative user balance, a succeeded top-up without its credit, a paid order without its payment): an empty list is the normal state.",
    responses: { 200: jsonResponse(ReconciliationSchema, "The report"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const now = Date.now();
    const report = await reconcile(scopeOf(c).db);
    return c.json({ ...report, checkedAt: iso(now) }, 200);
  },
);

/** Entries read per page of the CSV export. */
const EXPORT_PAGE = 1000;
const MAX_WINDOW_MS = 366 * 86_400_000;

const Instant = z.string().datetime({ offset: true });
const ExportQuerySchema = z.object({
  from: Instant.openapi({ description: "First instant, inclusive (ISO 8601)", example: "2024-03-01T00:00:00Z" }),
  to: Instant.openapi({ description: "End instant, exclusive (ISO 8601)", example: "2024-04-01T00:00:00Z" }),
});
/** The window as milliseconds, after the per-field checks: from < to, at most 366 days. */
const ExportWindowSchema = ExportQuerySchema.transform((q) => ({ from: Date.parse(q.from), to: Date.parse(q.to) }))
  .refine((w) => w.from < w.to, { message: "must be before to", path: ["from"] })
  .refine((w) => w.to - w.from <= MAX_WINDOW_MS, { message: "the window spans more than 366 days", path: ["to"] });

const EXPORT_COLUMNS = [
  "id",
  "transactionId",
  "createdAt",
  "kind",
  "account",
  "userId",
  "currency",
  "amount",
  "balanceAfter",
  "orderId",
] as const;

const exportRow = (e: ExportEntry) => [
  e.id,
  e.transactionId,
  iso(e.createdAt),
  e.kind,
  e.account,
  e.userId,
  e.currency,
  e.amount,
  e.balanceAfter,
  e.orderId,
];

reportRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/ledger/export",
    operationId: "exportLedger",
    tags,
    security,
    middleware: withPermission("ledger:read"),
    summary: "The ledger entries created in [from, to) as CSV, in (createdAt, seq) order",
    description:
      "Streamed a page at a time. A header row, then one row per entry: `id,transactionId,createdAt,kind,account,userId,currency,amount,balanceAfter,orderId` (amounts in minor units, negative for a debit; `userId` empty on system accounts, `orderId` empty outside orders). RFC 4180 with CRLF line ends; text cells starting with `=`, `+`, `-`, `@`, tab or CR get a leading `'` so spreadsheets do not run them as formulas. Over a window holding whole transactions, the amounts of each currency sum to 0. The window is at most 366 days.",
    request: { query: ExportQuerySchema },
    responses: {
      200: {
        description: "The entries as CSV (text/csv; charset=utf-8), an attachment",
        content: { "text/csv": { schema: z.string() } },
      },
      ...problemResponses("forbidden"),
    },
  }),
  async (c) => {
    const parsed = ExportWindowSchema.safeParse(c.req.valid("query"));
    if (!parsed.success) throw validationError(parsed.error, "query");
    const { from, to } = parsed.data;
    const db = scopeOf(c).db;
    // Keyset pages on (created_at, seq).
    const body = pagedCsv<ExportCursor>(EXPORT_COLUMNS, async (after) => {
      const rows = await ledgerExportPage(db, { from, to, after, limit: EXPORT_PAGE });
      const last = rows[rows.length - 1];
      return {
        rows: rows.map(exportRow),
        next: last && rows.length === EXPORT_PAGE ? { createdAt: last.createdAt, seq: last.seq } : undefined,
      };
    });
    return c.body(body, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="ledger-${iso(from)}-${iso(to)}.csv"`,
    });
  },
);
