/**
 * Which URLs a tenant may point a webhook at. A webhook makes Canopy send requests where a
 * tenant says, so outside development and tests it only sends to public HTTPS hosts: no
 * `localhost`, no IP literals in loopback, private, link-local, shared (CGNAT), multicast or
 * reserved ranges (the usual server-side request forgery targets, cloud metadata included).
 * Names are not resolved here (Workers cannot), which is acceptable because a Worker's fetch
 * cannot reach private networks anyway; this check keeps the obvious cases out and documented.
 */
export const MAX_URL_LENGTH = 2048;

const LOCAL_ENVIRONMENTS = new Set(["development", "test"]);

function ipv4Blocked(a: number, b: number): boolean {
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 || // this network, private, loopback, multicast + reserved
    (a === 100 && b >= 64 && b <= 127) || // shared address space (CGNAT)
    (a === 169 && b === 254) || // link-local, cloud metadata
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) || // IETF protocol assignments
    (a === 198 && (b === 18 || b === 19)) // benchmarking
  );
}

function parseIpv4(host: string): [number, number] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function ipv6Blocked(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "::" || h === "::1") return true;
  if (/^f[cd]/.test(h) || /^fe[89ab]/.test(h) || /^ff/.test(h)) return true; // unique local, link-local, multicast
  // IPv4-mapped (the URL parser writes ::ffff:127.0.0.1 as ::ffff:7f00:1).
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    return ipv4Blocked(hi >> 8, hi & 0xff);
  }
  return false;
}

/**
 * Why a webhook URL is refused in this environment, or null when it is acceptable. Syntax
 * (absolute http(s), length) is checked by the request schema; this adds the rules that
 * depend on where Canopy runs. The URL parser has already normalised odd IPv4 spellings
 * (`http://2130706433/`, `0x7f.1`) to dotted quads.
 */
export function urlProblem(raw: string, environment: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "The URL is not an absolute URL.";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "The URL must use http or https.";
  if (url.username || url.password) return "The URL must not contain credentials; use the signature to authenticate Canopy.";
  if (url.hash) return "The URL must not contain a fragment.";
  if (LOCAL_ENVIRONMENTS.has(environment)) return null;
  if (url.protocol !== "https:") return "Webhook URLs must use https.";
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return "Webhook URLs must not point at localhost.";
  const v4 = parseIpv4(host);
  if (v4 && ipv4Blocked(v4[0], v4[1])) return "Webhook URLs must not point at a private, loopback or link-local address.";
  if (host.startsWith("[") && ipv6Blocked(host.slice(1, -1))) return "Webhook URLs must not point at a private, loopback or link-local address.";
  return null;
}
