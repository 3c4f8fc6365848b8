import type { ServiceModule } from "../gateway/module";
import { auditRoutes, platformAuditRoutes } from "./audit-routes";
import { privacyConfig } from "./config";
import { exportConsumer } from "./export-consumer";
import { exportRoutes } from "./export-routes";
import { retentionSweep } from "./retention";
import { erasureSweep } from "./sweep";

/**
 * Privacy and accountability: the erasure of deleted accounts (the sweep; the erasure itself is
 * the shared src/workers/erasure/, which the account and admin routes call too), the audit logs'
 * routes (entries are written by the gateway's `audited` middleware), and the tenant config.
 */
export const privacyModule: ServiceModule = {
  name: "privacy",
  routes: [
    { base: "/v1", router: auditRoutes },
    { base: "/v1", router: exportRoutes },
    { base: "/admin/v1", router: platformAuditRoutes },
  ],
  // Exports ride on the statistics queue, whose batches suit bulk copying (as the archive's do).
  consumers: [{ queue: "statistics", types: ["export.requested"], consume: exportConsumer }],
  sweeps: [erasureSweep, retentionSweep],
  emits: ["export.requested"],
  fuzzIds: { exports: { params: ["exportId"], segments: ["exports"] } },
  config: privacyConfig,
};
