import { z } from "@hono/zod-openapi";
import { ISO_4217 } from "./iso4217";

/**
 * Money on Canopy's money path (docs/commerce.md): an integer amount of minor units and a
 * currency code, ISO 4217 or one of the tenant's virtual currencies. Amounts travel as JSON
 * integers, are computed as bigint and bound to SQL as bigint (a JS number reaches libSQL as a
 * REAL), so no float ever touches a balance.
 */
export interface Money {
  amount: bigint;
  currency: string;
}

/** The largest amount one price, top-up or line may carry (10^10 minor units). */
export const MAX_AMOUNT = 10_000_000_000;
/** The largest total one order may reach (10^12 minor units), well inside a safe JS integer. */
export const MAX_TOTAL = 1_000_000_000_000n;

/** A currency code as written: 3 to 8 upper-case letters (ISO's are 3). */
export const CurrencyCodeSchema = z
  .string()
  .regex(/^[A-Z]{3,8}$/, "must be 3 to 8 upper-case letters")
  .openapi({ example: "CNY" });

/** A positive integer number of minor units, at most {@link MAX_AMOUNT}. */
export const AmountSchema = z
  .number()
  .int("must be an integer number of minor units")
  .positive()
  .max(MAX_AMOUNT)
  .openapi({ example: 1999, description: "Minor units (1999 CNY = ¥19.99)" });

/** `{ amount, currency }` as clients send and see it. */
export const MoneySchema = z.object({ amount: AmountSchema, currency: CurrencyCodeSchema }).openapi("Money");

/** True for an ISO 4217 code in circulation. */
export const isIsoCurrency = (code: string): boolean => ISO_4217.has(code);

/** The minor-unit exponent of an ISO 4217 code (undefined for others). */
export const isoExponent = (code: string): number | undefined => ISO_4217.get(code);

/** A bigint amount back to a JSON number; every amount Canopy stores is a safe integer. */
export function toJsonAmount(v: bigint): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError("amount out of the safe integer range");
  }
  return Number(v);
}

/** A stored integer (libSQL returns numbers) as bigint; refuses anything but a safe integer. */
export function fromStored(v: number | bigint | string): bigint {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && !Number.isSafeInteger(v)) throw new RangeError(`not a safe integer: ${v}`);
  return BigInt(v);
}
