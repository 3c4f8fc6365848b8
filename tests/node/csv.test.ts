import { describe, expect, it } from "vitest";
import { csvCell, csvRow } from "../../src/lib/csv";

describe("CSV cells", () => {
  it("leaves plain text and numbers alone, and writes nothing for null", () => {
    expect(csvCell("u:01HX:CNY")).toBe("u:01HX:CNY");
    expect(csvCell("")).toBe("");
    expect(csvCell(1999)).toBe("1999");
    expect(csvCell(-1999)).toBe("-1999");
    expect(csvCell(12345678901234567890n)).toBe("12345678901234567890");
    expect(csvCell(null)).toBe("");
    expect(csvCell(undefined)).toBe("");
  });

  it("quotes a cell with a comma, a quote, CR or LF, doubling its quotes (RFC 4180)", () => {
    expect(csvCell("a,b")).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell("two\nlines")).toBe('"two\nlines"');
    expect(csvCell("a\r\nb")).toBe('"a\r\nb"');
    expect(csvCell('"')).toBe('""""');
  });

  it("defuses text a spreadsheet would run as a formula", () => {
    expect(csvCell("=1+2")).toBe("'=1+2");
    expect(csvCell("+1")).toBe("'+1");
    expect(csvCell("-1")).toBe("'-1");
    expect(csvCell("@SUM(A1)")).toBe("'@SUM(A1)");
    expect(csvCell("\tx")).toBe("'\tx");
    // CR is defused and then quoted, since the cell holds a CR.
    expect(csvCell("\r=x")).toBe('"\'\r=x"');
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    // Only the first character counts.
    expect(csvCell("a=b")).toBe("a=b");
    expect(csvCell(" =x")).toBe(" =x");
  });

  it("ends each record with CRLF", () => {
    expect(csvRow(["id", 5, null, "x,y", -3])).toBe('id,5,,"x,y",-3\r\n');
    expect(csvRow([])).toBe("\r\n");
  });
});
