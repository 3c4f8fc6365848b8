import type { ServiceModule } from "../gateway/module";
import { backupConfig } from "./backups/config";
import { runBackup } from "./backups/backup";
import { runRestore } from "./backups/restore";
import { backupRoutes } from "./backups/routes";
import { backupSweep } from "./backups/schedule";
import { BACKUP_REQUESTED, RESTORE_REQUESTED } from "./backups/service";
import { devMailRoutes } from "./dev-mail-routes";
import { adminEventRoutes } from "./events-routes";
import { adminConfigRoutes } from "./own-config";
import { adminRoutes } from "./routes";
import { closeTenantSockets, TENANT_CLOSED } from "./sockets";

/**
 * The platform API: tenants, their lifecycle and backups, the event pipeline's operator view; and
 * a tenant owner's own sections of its config.
 */
export const adminModule: ServiceModule = {
  name: "admin",
  routes: [
    { base: "/admin/v1", router: adminRoutes },
    { base: "/admin/v1", router: backupRoutes },
    { base: "/admin/v1", router: adminEventRoutes },
    { base: "/admin/v1", router: devMailRoutes },
    // A tenant owner's own part of the same config (GET/PATCH /v1/admin/config).
    { base: "/v1", router: adminConfigRoutes },
  ],
  platformEvents: [
    { queue: "notification", type: TENANT_CLOSED, handle: closeTenantSockets },
    // Backups and restores ride on the statistics queue, whose batches suit bulk copying.
    { queue: "statistics", type: BACKUP_REQUESTED, handle: runBackup },
    { queue: "statistics", type: RESTORE_REQUESTED, handle: runRestore },
  ],
  sweeps: [backupSweep],
  emits: [TENANT_CLOSED, BACKUP_REQUESTED, RESTORE_REQUESTED],
  config: backupConfig,
  fuzzIds: {
    tenants: { params: ["slug"], segments: ["tenants"] },
    deadLetters: { segments: ["dead-letters"] },
    backups: { params: ["backupId"], segments: ["backups"] },
    restores: { params: ["restoreId"], segments: ["restores"] },
  },
};
