import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exponentOf, formatMinorUnits, formatMoney } from "../../src/workers/notifications/money-format";

const COIN = [{ code: "COIN", exponent: 0 }];

describe("money formatting for notifications", () => {
  it("places the decimal point by the ISO 4217 exponent", () => {
    expect(formatMoney(1999, "CNY")).toBe("19.99 CNY");
    expect(formatMoney(500, "JPY")).toBe("500 JPY");
    expect(formatMoney(1234, "KWD")).toBe("1.234 KWD");
    expect(formatMoney(12_345, "CLF")).toBe("1.2345 CLF");
  });

  it("pads amounts smaller than one unit and keeps trailing zeros", () => {
    expect(formatMinorUnits(5, 2)).toBe("0.05");
    expect(formatMinorUnits(5, 3)).toBe("0.005");
    expect(formatMinorUnits(0, 2)).toBe("0.00");
    expect(formatMinorUnits(1000, 2)).toBe("10.00");
    expect(formatMinorUnits(0, 0)).toBe("0");
  });

  it("puts the sign before the digits of a negative amount", () => {
    expect(formatMoney(-1999, "CNY")).toBe("-19.99 CNY");
    expect(formatMinorUnits(-5, 2)).toBe("-0.05");
    expect(formatMinorUnits(-7n, 0)).toBe("-7");
  });

  it("virtual currencies use the tenant's exponent (0 unless set); unknown codes show the integer", () => {
    expect(formatMoney(600, "COIN", COIN)).toBe("600 COIN");
    expect(formatMoney(1250, "GEM", [{ code: "GEM", exponent: 2 }])).toBe("12.50 GEM");
    expect(exponentOf("COIN", COIN)).toBe(0);
    expect(exponentOf("XYZ")).toBe(0);
    expect(formatMoney(1999, "XYZ")).toBe("1999 XYZ");
    // An ISO code keeps its ISO exponent whatever a tenant list says.
    expect(exponentOf("CNY", [{ code: "CNY", exponent: 0 }])).toBe(2);
  });

  it("prints huge amounts exactly, and refuses numbers that already lost digits", () => {
    expect(formatMinorUnits(Number.MAX_SAFE_INTEGER, 2)).toBe("90071992547409.91");
    expect(formatMinorUnits(-Number.MAX_SAFE_INTEGER, 3)).toBe("-9007199254740.991");
    expect(formatMinorUnits(10n ** 30n + 1n, 2)).toBe("10000000000000000000000000000.01");
    expect(formatMoney(10_000_000_000, "KWD")).toBe("10000000.000 KWD");
    expect(() => formatMinorUnits(2 ** 53, 2)).toThrow(RangeError);
    expect(() => formatMinorUnits(19.99, 2)).toThrow(RangeError);
    expect(() => formatMinorUnits(Number.NaN, 2)).toThrow(RangeError);
    expect(() => formatMinorUnits(1, -1)).toThrow(RangeError);
  });

  it("reads back as the same integer for any safe amount and exponent", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.integer({ min: 0, max: 4 }), (v, e) => {
        const s = formatMinorUnits(v, e);
        expect(BigInt(s.replace(".", ""))).toBe(v);
        expect(s.includes(".") ? s.split(".")[1]!.length : 0).toBe(e);
      }),
    );
  });
});
