import { AppError } from "../../lib/errors";
import type { TenantConfig } from "../../lib/tenant-config";

/** Whether a currency is one of the tenant's real (ISO, enabled) or virtual currencies. */
export type CurrencyKind = "real" | "virtual";

/** The kind of an enabled currency; 400 `currency_not_supported` for any other code. */
export function currencyKind(config: TenantConfig, currency: string): CurrencyKind {
  if (config.commerce.currencies.includes(currency)) return "real";
  if (config.commerce.virtualCurrencies.some((v) => v.code === currency)) return "virtual";
  throw new AppError("currency_not_supported", `The currency ${currency} is not enabled for this tenant.`);
}
