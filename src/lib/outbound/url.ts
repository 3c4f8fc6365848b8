/**
 * Which URLs a tenant may make Canopy call (webhook endpoints; later, AI provider endpoints).
 * Such a URL makes Canopy send requests where a tenant says, so this is the server-side request
 * forgery guard, applied when the URL is set and again before every request (docs/webhooks.md):
 *
 * - everywhere, development included: no link-local addresses, no cloud metadata services
 *   (addresses or names), no wildcard-DNS names (`127.0.0.1.nip.io`) that can point anywhere;
 * - outside development (`ENVIRONMENT` other than `development` or `test`, so a missing or
 *   misspelt value is strict): https only, and no loopback, private, shared, reserved or
 *   otherwise non-global address, in IPv4 or IPv6 (including IPv6 forms that embed an IPv4
 *   address), and no names that only resolve inside a network (localhost, *.local, *.internal).
 *
 * Development keeps loopback and private hosts for local receivers (the tests' receiver is on
 * 127.0.0.1). Names are not resolved (Workers cannot); a Worker's fetch cannot reach private
 * networks anyway and redirects are not followed, so this keeps out what a URL can name.
 */
import { hostClass } from "./hosts";

export const MAX_URL_LENGTH = 2048;

const LOCAL_ENVIRONMENTS = new Set(["development", "test"]);

/**
 * Why a URL is malformed for an outbound call, or null: absolute http(s), no credentials, no
 * fragment. Where it points is urlProblem's business.
 */
export function urlSyntaxProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "The URL is not an absolute URL.";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "The URL must use http or https.";
  if (url.username || url.password)
    return "The URL must not contain credentials; use the signature to authenticate Canopy.";
  if (url.hash) return "The URL must not contain a fragment.";
  return null;
}

/**
 * Why an outbound URL is refused in this environment, or null when it is acceptable; `what`
 * names the URLs in the message. The URL parser has already normalised odd IPv4 spellings
 * (`http://2130706433/`, `0x7f.1`) to dotted quads and IPv6 literals to compressed hex, which
 * hostClass reads.
 */
export function urlProblem(raw: string, environment: string, what = "Webhook URLs"): string | null {
  const syntax = urlSyntaxProblem(raw);
  if (syntax) return syntax;
  const url = new URL(raw);
  const where = hostClass(url.hostname);
  if (where === "forbidden")
    return `${what} must not point at link-local addresses, cloud metadata services or wildcard-DNS names (such as nip.io) that can resolve anywhere.`;
  if (LOCAL_ENVIRONMENTS.has(environment)) return null;
  if (url.protocol !== "https:") return `${what} must use https.`;
  if (where === "local")
    return `${what} must point at a public host, not a loopback, private or reserved address or an internal name.`;
  return null;
}
