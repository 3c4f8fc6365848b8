import { decodeProtectedHeader, jwtVerify, type JWTPayload } from "jose";
import { base64url } from "./ids";
import { AppError } from "./errors";

/**
 * Canopy's JWTs: ES256 only, `kid` in the header, a distinct `typ` per token kind so one kind can
 * never stand in for another (RFC 8725 §3.11): access tokens are `at+jwt` (RFC 9068).
 */
export const ALG = "ES256";
export const TOKEN_TYPES = { access: "at+jwt", mfa: "mfa+jwt", ticket: "ticket+jwt", device: "device+jwt" } as const;
export type TokenKind = keyof typeof TOKEN_TYPES;

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

export interface TokenClaims extends JWTPayload {
  sub: string;
  tid: string;
  sid?: string;
  roles?: string[];
  exp: number;
  iat: number;
  jti: string;
}

export interface IssueOptions {
  issuer: string;
  audience: string;
  ttlSeconds: number;
  now?: number;
}

const utf8 = new TextEncoder();
const segment = (value: unknown) => base64url(utf8.encode(JSON.stringify(value)));
/** The encoded protected header per key and kind (a handful per isolate: keys are few). */
const headers = new WeakMap<SigningKey, Map<TokenKind, string>>();

function headerOf(key: SigningKey, kind: TokenKind): string {
  let byKind = headers.get(key);
  if (!byKind) headers.set(key, (byKind = new Map()));
  let h = byKind.get(kind);
  if (!h) byKind.set(kind, (h = segment({ alg: ALG, kid: key.kid, typ: TOKEN_TYPES[kind] })));
  return h;
}

/**
 * Signs a token of the given kind: a JWS compact serialisation (RFC 7515) of the claims with
 * `iss`, `aud`, `iat`, `exp` and a random `jti`, signed ES256. WebCrypto's ECDSA signature is
 * already the raw r‖s JWS wants. Built here rather than with jose's SignJWT, whose builder and
 * checks cost as much as the signature itself on every sign-in (docs/performance.md); jose
 * verifies them (tests/worker/auth-tokens.test.ts).
 */
export async function signToken(
  key: SigningKey,
  kind: TokenKind,
  claims: { sub: string; tid: string; sid?: string; roles?: string[]; [k: string]: unknown },
  opts: IssueOptions,
): Promise<string> {
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  const payload = segment({
    ...claims,
    iss: opts.issuer,
    aud: opts.audience,
    iat: now,
    exp: now + opts.ttlSeconds,
    jti: crypto.randomUUID(),
  });
  const input = `${headerOf(key, kind)}.${payload}`;
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key.privateKey, utf8.encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}

const invalid = (detail: string) =>
  new AppError("invalid_token", detail, { headers: { "www-authenticate": 'Bearer error="invalid_token"' } });

// Header parameters that would let a token name its own verification key: never honoured.
const FORBIDDEN_HEADERS = ["jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256", "crit"];

/**
 * Verifies a token of the expected kind. Only ES256 with a `kid` this tenant published is
 * accepted; `alg: none`, HS256 "confusion" tokens, embedded or remote keys, tampered payloads,
 * other kinds, issuers and audiences all fail with 401 invalid_token.
 */
export async function verifyToken(
  token: string,
  kind: TokenKind,
  keyFor: (kid: string) => Promise<CryptoKey | undefined>,
  opts: { issuer: string; audience: string; now?: number },
): Promise<TokenClaims> {
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw invalid("The token is malformed.");
  }
  if (header.alg !== ALG) throw invalid("The token's algorithm is not accepted.");
  if (header.typ !== TOKEN_TYPES[kind]) throw invalid("The token is not of the expected type.");
  if (FORBIDDEN_HEADERS.some((h) => h in header)) throw invalid("The token carries key material in its header.");
  if (typeof header.kid !== "string") throw invalid("The token has no key id.");
  const key = await keyFor(header.kid);
  if (!key) throw invalid("The token was signed with an unknown key.");
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALG],
      typ: TOKEN_TYPES[kind],
      issuer: opts.issuer,
      audience: opts.audience,
      clockTolerance: 5,
      ...(opts.now !== undefined ? { currentDate: new Date(opts.now) } : {}),
      requiredClaims: ["sub", "tid", "exp", "iat", "jti"],
    });
    return payload as TokenClaims;
  } catch (err) {
    const expired = err instanceof Error && "code" in err && err.code === "ERR_JWT_EXPIRED";
    throw invalid(expired ? "The token has expired." : "The token is invalid.");
  }
}
