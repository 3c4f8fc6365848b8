/**
 * CSV cells and rows as RFC 4180 writes them (CRLF line ends; a cell holding a comma, a quote, CR
 * or LF is quoted, its quotes doubled), with the spreadsheet-injection defence OWASP recommends:
 * a text cell starting with `=`, `+`, `-`, `@`, tab or CR would be read as a formula by Excel,
 * LibreOffice or Sheets, so it gets a leading `'`. Numbers are written as they are (a negative
 * amount is a number, not a formula), so sums still work in the sheet.
 */

/** A cell's value: text (defended), a number (as is), or nothing (an empty cell). */
export type CsvValue = string | number | bigint | null | undefined;

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell as CSV text. */
export function csvCell(v: CsvValue): string {
  if (v === null || v === undefined) return "";
  if (typeof v !== "string") return String(v);
  const text = FORMULA_START.test(v) ? `'${v}` : v;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record: its cells joined by commas, ended by CRLF. */
export function csvRow(cells: readonly CsvValue[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}

/**
 * A CSV body pulled a page at a time: the header row, then each page's rows, asking for the next
 * page only when the client has read the last (so an export never sits in memory whole). `page`
 * answers a page's rows and the cursor of the next one (none: the last page).
 */
export function pagedCsv<C>(
  columns: readonly string[],
  page: (after: C | undefined) => Promise<{ rows: readonly (readonly CsvValue[])[]; next: C | undefined }>,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after: C | undefined;
  let headerSent = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const header = headerSent ? "" : csvRow(columns);
      headerSent = true;
      const { rows, next } = await page(after);
      const text = header + rows.map(csvRow).join("");
      if (text) controller.enqueue(encoder.encode(text));
      if (next === undefined) return controller.close();
      after = next;
    },
  });
}
