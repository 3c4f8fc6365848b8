import { createRoute } from "@hono/zod-openapi";
import { reconcile } from "../../db/tenant/ledger";
import { iso } from "../../lib/time";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { withPermission } from "../gateway/middleware/authn";
import { ReconciliationSchema } from "./schemas";

/** The ledger's reports for tenant admins (`ledger:read`): the reconciliation. */
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
