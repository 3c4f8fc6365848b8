/**
 * The AES-GCM contexts of every secret Canopy seals (lib/crypto.ts). Each context starts with the
 * tenant's id, so a sealed value copied onto another tenant does not open. One list, because a
 * restore into a new tenant must re-seal every one of them (docs/operations.md, "Backup and
 * restore"): a sealed column missing here would restore as a value nobody can open.
 */
export const sealContexts = {
  /** A tenant database's credential (the platform's tenants row). */
  dbToken: (tenantId: string) => tenantId,
  /** A JWT signing key's private half. */
  signingKey: (tenantId: string, kid: string) => `${tenantId}:${kid}`,
  totp: (tenantId: string, userId: string) => `${tenantId}:totp:${userId}`,
  emailChallenge: (tenantId: string, challengeId: string) => `${tenantId}:email:${challengeId}`,
  ai: (tenantId: string, provider: string) => `${tenantId}:ai:${provider}`,
  payments: (tenantId: string, provider: string) => `${tenantId}:payments:${provider}`,
  webhook: (tenantId: string, endpointId: string) => `${tenantId}:webhook:${endpointId}`,
} as const;

/** A column of a tenant table that holds a sealed value, and the row's context for it. */
export interface SealedColumn {
  table: string;
  column: string;
  context: (tenantId: string, row: Record<string, unknown>) => string;
}

const str = (v: unknown) => String(v);

/**
 * Every sealed column of the tenant database a backup carries. Signing keys are not carried (a
 * restored tenant gets a key of its own, and backups hold no private keys).
 */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: "users", column: "totp_secret_sealed", context: (t, r) => sealContexts.totp(t, str(r.id)) },
  { table: "email_challenges", column: "sealed", context: (t, r) => sealContexts.emailChallenge(t, str(r.id)) },
  { table: "ai_providers", column: "sealed", context: (t, r) => sealContexts.ai(t, str(r.provider)) },
  { table: "payment_providers", column: "sealed", context: (t, r) => sealContexts.payments(t, str(r.provider)) },
  { table: "webhook_secrets", column: "sealed", context: (t, r) => sealContexts.webhook(t, str(r.endpoint_id)) },
];
