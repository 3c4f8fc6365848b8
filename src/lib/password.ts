import { base64url, fromBase64url } from "./ids";

/**
 * Password hashing: PBKDF2-HMAC-SHA256 through Web Crypto at 100,000 iterations, the most the
 * Workers runtime allows (Argon2id would need a WASM module; Workers forbid compiling WASM from
 * bytes at run time, and PBKDF2 needs no dependency). The stored form is self-describing, so
 * parameters can rise later and old hashes are upgraded on the next successful login.
 *
 *   $pbkdf2-sha256$i=100000$<salt, base64url>$<derived key, base64url>
 */
export const PBKDF2_ITERATIONS = 100_000;
const KEY_BITS = 256;
const encoder = new TextEncoder();

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password.normalize("NFKC")), "PBKDF2", false, [
    "deriveBits",
  ]);
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, KEY_BITS),
  );
}

export async function hashPassword(password: string, iterations = PBKDF2_ITERATIONS): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const dk = await derive(password, salt, iterations);
  return `$pbkdf2-sha256$i=${iterations}$${base64url(salt)}$${base64url(dk)}`;
}

export interface PasswordCheck {
  ok: boolean;
  /** The hash uses weaker parameters than today's: store a fresh hash after a successful login. */
  needsRehash: boolean;
}

const FORMAT = /^\$pbkdf2-sha256\$i=(\d{1,7})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

/** Verifies in constant time; a malformed stored hash verifies as false, never throws. */
export async function verifyPassword(password: string, stored: string): Promise<PasswordCheck> {
  const m = FORMAT.exec(stored);
  if (!m) return { ok: false, needsRehash: false };
  const iterations = Number(m[1]);
  if (iterations < 1 || iterations > PBKDF2_ITERATIONS) return { ok: false, needsRehash: false };
  const expected = fromBase64url(m[3]!);
  const actual = await derive(password, fromBase64url(m[2]!), iterations);
  let diff = actual.length ^ expected.length;
  for (let i = 0; i < actual.length; i++) diff |= actual[i]! ^ (expected[i] ?? 0);
  return { ok: diff === 0, needsRehash: iterations < PBKDF2_ITERATIONS };
}

// A valid hash of a random password: verifying against it costs what a real check costs, so
// an unknown account answers in the same time as a known one with a wrong password.
// Kept as a settled string, never a pending promise (src/lib/settled-cache.ts says why).
let dummy: string | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= await hashPassword(base64url(crypto.getRandomValues(new Uint8Array(16))));
  await verifyPassword(password, dummy);
}
