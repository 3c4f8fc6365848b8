/** Epoch milliseconds as an RFC 3339 string, the API's one time format. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** {@link iso} for optional times. */
export function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}
