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
 * Two ways in, for cost: {@link presetSecurityHeaders} hands them to the context before the route
 * runs, so a response the context builds (`c.json`, `c.body`, a problem) is made with them in one
 * go; setting them one by one on a finished response cost ~40 µs a request, more than the rest of
 * the chain (docs/performance.md, "Profiles"). A response a route builds itself (a file download,
 * a socket upgrade) lacks the preset's marker and gets {@link applySecurityHeaders} afterwards.
 * With the preset, an HTML page built by the context gets the API's CSP unless it sets its own
 * (the /docs page sets HTML_CSP).
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

/**
 * The CSP of the web apps the Worker serves (/console/, /examples/chat/): their own scripts,
 * styles and API only (same-origin fetch and WebSocket), no inline code, no CDN, no framing.
 */
export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** The header only the preset sets: present on a response, the preset reached it. */
const PRESET_MARKER = "strict-transport-security";

/** Hands the security headers to the context (`c.header`) before the route: a route's own value replaces one. */
export function presetSecurityHeaders(set: (name: string, value: string) => void): void {
  for (const name in ALWAYS) set(name, ALWAYS[name]!);
  set("cache-control", "no-store");
  set("content-security-policy", API_CSP);
}

/** Whether the preset reached this response (the context built it); else {@link applySecurityHeaders}. */
export const presetReached = (headers: Headers): boolean => headers.has(PRESET_MARKER);

/** Adds the headers a response does not set itself. */
export function applySecurityHeaders(headers: Headers): void {
  for (const name in ALWAYS) if (!headers.has(name)) headers.set(name, ALWAYS[name]!);
  if (!headers.has("cache-control")) headers.set("cache-control", "no-store");
  if (!headers.has("content-security-policy")) {
    const html = headers.get("content-type")?.startsWith("text/html") ?? false;
    headers.set("content-security-policy", html ? HTML_CSP : API_CSP);
  }
}
