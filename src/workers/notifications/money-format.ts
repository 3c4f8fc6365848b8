import { ISO_4217 } from "../../lib/iso4217";

/** A currency the tenant defines (tenant config `commerce.virtualCurrencies`): only its code and exponent matter here. */
export interface VirtualCurrency {
  code: string;
  exponent: number;
}

/**
 * Decimal places of a currency's minor unit: the ISO 4217 exponent, the tenant's own for its
 * virtual currencies (0 unless it set one), and 0 for any other code, so an unknown currency
 * shows the integer it carries rather than a decimal point guessed at.
 */
export function exponentOf(currency: string, virtual: readonly VirtualCurrency[] = []): number {
  return ISO_4217.get(currency) ?? virtual.find((v) => v.code === currency)?.exponent ?? 0;
}

/**
 * Minor units as a decimal string with `exponent` places: (1999, 2) → "19.99", (500, 0) → "500",
 * (5, 3) → "0.005". Digits are placed, never divided, so no float touches the amount and any
 * integer prints exactly; a number that is not a safe integer is refused (it has already lost
 * digits). No grouping separators: grouping is locale's business, and the client's.
 */
export function formatMinorUnits(amount: number | bigint, exponent: number): string {
  if (typeof amount === "number" && !Number.isSafeInteger(amount))
    throw new RangeError(`not a safe integer: ${amount}`);
  if (!Number.isInteger(exponent) || exponent < 0) throw new RangeError(`not an exponent: ${exponent}`);
  const value = BigInt(amount);
  const sign = value < 0n ? "-" : "";
  const digits = (value < 0n ? -value : value).toString();
  if (exponent === 0) return sign + digits;
  const padded = digits.padStart(exponent + 1, "0");
  return `${sign}${padded.slice(0, -exponent)}.${padded.slice(-exponent)}`;
}

/** An amount with its code, as notifications show it: (1999, "CNY") → "19.99 CNY". */
export function formatMoney(
  amount: number | bigint,
  currency: string,
  virtual: readonly VirtualCurrency[] = [],
): string {
  return `${formatMinorUnits(amount, exponentOf(currency, virtual))} ${currency}`;
}
