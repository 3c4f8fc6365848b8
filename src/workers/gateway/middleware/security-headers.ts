/**
 * Security headers on every response (OWASP REST and Secure Headers guidance), set in one place
 * by the first middleware of the chain. A route that sets its own value (JWKS caching, a file
 * download's sandboxing CSP) keeps it.
 * - HSTS: two years, subdomains included (tenants are subdomains); browsers ignore it over http.
 * - nosniff and no referrer on everything.
 * - `Cache-Control: no-store` unless the route chose a policy: authenticated answers and
 *   problems must never sit in a shared cache.
 * - A CSP that allows nothing on API answers (JSON is never a document), and a narrow one on
 *   HTML (the /docs reference loads its script and styles from one CDN); framing is refused
 *   everywhere, also by the older X-Frame-Options.
 */
const ALWAYS: Record<string, string> = {
  "strict-transport-security": "max-age=63072000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};
const API_CSP = "default-src 'none'; frame-ancestors 'none'";
const DOCS_CDN = "https://cdn.jsdelivr.net";
/** The CSP of Canopy's own HTML pages. */
export const HTML_CSP = [
  "default-src 'none'",
  `script-src ${DOCS_CDN}`,
  `style-src 'unsafe-inline' ${DOCS_CDN}`,
  `font-src ${DOCS_CDN} data:`,
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Adds the headers a response does not set itself. */
export function applySecurityHeaders(headers: Headers): void {
  for (const name in ALWAYS) if (!headers.has(name)) headers.set(name, ALWAYS[name]!);
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
  if (!headers.has("content-security-policy")) {
    const html = headers.get("content-type")?.startsWith("text/html") ?? false;
    headers.set("content-security-policy", html ? HTML_CSP : API_CSP);
  }
}
