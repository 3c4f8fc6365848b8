import { e, type ErrorSpec } from "./error-spec";

/** The registry's codes of account deletion, exports, the audit log and tenant backups; src/lib/error-codes.ts joins them. */
export const privacyErrorGroups = {
  Privacy: {
    deletion_pending: e(
      409,
      "Deletion pending",
      'The account is scheduled for deletion (right password): sign in with "cancelDeletion": true to cancel it.',
    ),
    mfa_code_required: e(
      400,
      "MFA code required",
      "The account has TOTP on: the request needs a current code or an unused recovery code.",
    ),
    export_not_found: e(404, "Export not found", "No such data export of this user (or of the user in the path)."),
    export_too_soon: e(
      429,
      "Export too soon",
      "A user may ask for one export of their data per 24 hours (an admin, for one user at a time); `Retry-After` says when to ask again.",
    ),
    export_not_ready: e(409, "Export not ready", "The export is still being built, failed, or expired."),
    invalid_export_url: e(
      403,
      "Invalid export URL",
      "The download URL is not one issued to the signed-in user for this export, or it expired.",
    ),
  },
  Backups: {
    backup_not_found: e(404, "Backup not found", "No backup with this id of the tenant in the path (platform admin)."),
    backup_not_ready: e(
      409,
      "Backup not ready",
      "The backup is still running or failed: only a finished one can be restored.",
    ),
    backup_running: e(
      409,
      "Backup running",
      "A backup of this tenant is already running; wait for it (`GET …/backups`).",
    ),
    backup_corrupt: e(
      422,
      "Backup corrupt",
      "A part of the backup is missing or does not match the checksum in its manifest, or the manifest is of an unknown version; nothing was restored.",
    ),
    restore_not_found: e(404, "Restore not found", "No restore with this id (platform admin)."),
  },
} as const satisfies Record<string, Record<string, ErrorSpec>>;
