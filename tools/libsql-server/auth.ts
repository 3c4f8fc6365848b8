/**
 * Bearer-token authentication.
 *
 * - The master `secret` is accepted on every route; the admin API accepts nothing else.
 * - A database token is `base64url(HMAC-SHA256(secret, "ns:" + namespace))`: stateless, stable
 *   across restarts, valid only for its own namespace (like a Turso database token), and
 *   impossible to forge without the secret.
 *
 * Comparisons hash both sides first so `timingSafeEqual` always sees equal-length inputs and the
 * time taken reveals nothing about the expected token, not even its length.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** The database token of a namespace. */
export function namespaceToken(secret: string, ns: string): string {
  return createHmac("sha256", secret).update(`ns:${ns}`).digest("base64url");
}

function digest(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

/** The bearer token of a request, or undefined. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/** Checks tokens against one secret. */
export class Authenticator {
  private readonly secretDigest: Buffer;
  // Digests of namespace tokens, so a request costs one SHA-256 instead of an HMAC and three hashes.
  private readonly tokenDigests = new Map<string, Buffer>();

  constructor(private readonly secret: string) {
    if (secret.length === 0) throw new Error("The server secret must not be empty");
    this.secretDigest = digest(secret);
  }

  /** The token for a namespace. */
  tokenFor(ns: string): string {
    return namespaceToken(this.secret, ns);
  }

  /** True if the token is the master secret. */
  isMaster(token: string | undefined): boolean {
    return token !== undefined && timingSafeEqual(digest(token), this.secretDigest);
  }

  /** True if the token grants access to namespace `ns` (master secret or that namespace's token). */
  allows(token: string | undefined, ns: string): boolean {
    if (token === undefined) return false;
    const given = digest(token);
    // Evaluate both comparisons so timing does not tell which kind of token was close.
    const master = timingSafeEqual(given, this.secretDigest);
    const own = timingSafeEqual(given, this.tokenDigest(ns));
    return master || own;
  }

  private tokenDigest(ns: string): Buffer {
    let d = this.tokenDigests.get(ns);
    if (d === undefined) {
      if (this.tokenDigests.size >= 10_000) this.tokenDigests.clear();
      d = digest(this.tokenFor(ns));
      this.tokenDigests.set(ns, d);
    }
    return d;
  }
}
