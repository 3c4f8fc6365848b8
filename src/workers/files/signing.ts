/**
 * Signed download URLs moved to the shared module src/workers/file-urls.ts (the realtime service
 * signs attachment URLs too); re-exported here for existing importers.
 */
export {
  downloadUrl,
  expiryFor,
  signDownload,
  tenantOrigin,
  URL_STEP_SECONDS,
  URL_TTL_SECONDS,
  verifyDownload,
} from "../file-urls";
