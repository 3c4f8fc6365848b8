import { sealContexts } from "../../lib/seal-contexts";
import { type ProviderName, ensureProvider, providerRows } from "../../db/tenant/payments";
import { openSecret, sealSecret } from "../../lib/crypto";
import { AppError } from "../../lib/errors";
import type { PaymentProvider } from "../../lib/payments/provider";
import { newSandboxSecret, SandboxProvider } from "../../lib/payments/sandbox";
import { StripeProvider } from "../../lib/payments/stripe";
import type { TenantScope } from "../gateway/context";

/**
 * A tenant's payment providers (docs/commerce.md, Providers): one row per configured provider,
 * public settings beside secrets sealed with the platform key under the tenant's id, opened per
 * request and never returned. Without any active row, a tenant outside production uses the
 * sandbox (its signing secret generated on first use); in production it must choose one.
 */

/** The secrets a provider may hold. */
export interface ProviderSecrets {
  secretKey?: string | undefined;
  webhookSecret?: string | undefined;
}
/** The public settings a provider may hold. */
export interface ProviderSettings {
  publishableKey?: string | undefined;
}

export const sealContext = (tenantId: string, provider: ProviderName) => sealContexts.payments(tenantId, provider);

/** A provider's configuration as stored, secrets opened. */
export interface ProviderConfig {
  provider: ProviderName;
  active: boolean;
  settings: ProviderSettings;
  secrets: ProviderSecrets;
  updatedAt: number;
}

/** Every configured provider of the tenant, secrets opened. */
export async function providerConfigs(s: TenantScope): Promise<ProviderConfig[]> {
  const rows = await providerRows(s.db);
  return Promise.all(
    rows.map(async (r) => ({
      provider: r.provider,
      active: r.active,
      settings: JSON.parse(r.settings) as ProviderSettings,
      secrets: r.sealed
        ? (JSON.parse(
            await openSecret(s.env.DB_ENCRYPTION_KEY, r.sealed, sealContext(s.tenant.id, r.provider)),
          ) as ProviderSecrets)
        : {},
      updatedAt: r.updatedAt,
    })),
  );
}

/** Whether the sandbox may stand in when no provider is active (everywhere but production). */
const sandboxByDefault = (env: Env) => env.ENVIRONMENT !== "production";

/** The provider top-ups use now: the active row, else the sandbox outside production. */
export async function activeProviderName(s: TenantScope, configs?: ProviderConfig[]): Promise<ProviderName> {
  const active = (configs ?? (await providerConfigs(s))).find((c) => c.active);
  if (active) return active.provider;
  if (sandboxByDefault(s.env)) return "sandbox";
  throw new AppError("payments_not_configured", "No payment provider is active for this tenant.");
}

/** The sandbox's secret: the configured one, or one generated and stored on first use. */
async function sandboxSecret(s: TenantScope, configs: ProviderConfig[], now: number): Promise<string> {
  const configured = configs.find((c) => c.provider === "sandbox")?.secrets.webhookSecret;
  if (configured) return configured;
  const sealed = await sealSecret(
    s.env.DB_ENCRYPTION_KEY,
    JSON.stringify({ webhookSecret: newSandboxSecret() }),
    sealContext(s.tenant.id, "sandbox"),
  );
  const row = await ensureProvider(s.db, { provider: "sandbox", settings: "{}", sealed }, now);
  const opened = JSON.parse(
    await openSecret(s.env.DB_ENCRYPTION_KEY, row.sealed ?? sealed, sealContext(s.tenant.id, "sandbox")),
  ) as ProviderSecrets;
  if (!opened.webhookSecret) throw new Error("sandbox row without a webhook secret");
  return opened.webhookSecret;
}

/**
 * A provider of the tenant, ready to use; 409 `payments_not_configured` when it is not set up
 * (Stripe without keys, the sandbox in production unless configured).
 */
export async function providerFor(
  s: TenantScope,
  name: ProviderName,
  apiBase: string,
  now = Date.now(),
  configs?: ProviderConfig[],
): Promise<PaymentProvider & { name: ProviderName }> {
  const all = configs ?? (await providerConfigs(s));
  const row = all.find((c) => c.provider === name);
  if (name === "sandbox") {
    if (!row && !sandboxByDefault(s.env)) {
      throw new AppError("payments_not_configured", "The sandbox provider is not set up for this tenant.");
    }
    return new SandboxProvider({ webhookSecret: await sandboxSecret(s, all, now), baseUrl: apiBase });
  }
  if (!row?.secrets.secretKey || !row.secrets.webhookSecret) {
    throw new AppError(
      "payments_not_configured",
      "Stripe is not set up for this tenant (secret key and webhook secret).",
    );
  }
  return new StripeProvider({
    secretKey: row.secrets.secretKey,
    webhookSecret: row.secrets.webhookSecret,
    publishableKey: row.settings.publishableKey ?? null,
    apiUrl: s.env.STRIPE_API_URL || undefined,
  });
}
