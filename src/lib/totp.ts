import { generateSecret, generateURI, verify } from "otplib/functional";
import { renderSVG } from "uqr";
import { sha256Hex } from "./crypto";

/**
 * TOTP per RFC 6238 through otplib: SHA-1, 6 digits, 30-second steps (what every authenticator
 * app implements), 160-bit secrets, one past step of tolerance and none in the future.
 */
export const PERIOD = 30;

export function newTotpSecret(): string {
  return generateSecret({ length: 20 }); // 20 bytes = 160 bits, base32
}

export function totpUri(secret: string, issuer: string, account: string): string {
  return generateURI({ issuer, label: account, secret, period: PERIOD, digits: 6, algorithm: "sha1" });
}

export function qrSvg(text: string): string {
  return renderSVG(text);
}

/**
 * Checks a code; returns the time step it belongs to, or null. Steps at or before
 * `afterStep` are refused (the caller then claims the step atomically to stop replays).
 */
export async function verifyTotp(
  secret: string,
  code: string,
  afterStep: number,
  nowMs = Date.now(),
): Promise<number | null> {
  if (!/^\d{6}$/.test(code)) return null;
  const result = await verify({
    secret,
    token: code,
    period: PERIOD,
    digits: 6,
    algorithm: "sha1",
    epoch: Math.floor(nowMs / 1000),
    epochTolerance: [PERIOD, 0],
    afterTimeStep: afterStep,
  });
  return result.valid && "epoch" in result ? Math.floor(result.epoch / PERIOD) : null;
}

/** Ten one-time recovery codes, `xxxxx-xxxxx` from a 31-character alphabet (~49 bits each). */
export function newRecoveryCodes(n = 10): string[] {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"; // no 0/o/1/l/i; 248 = 8 × 31 keeps it unbiased
  return Array.from({ length: n }, () => {
    let chars = "";
    while (chars.length < 10) {
      const b = crypto.getRandomValues(new Uint8Array(1))[0]!;
      if (b < 248) chars += alphabet[b % alphabet.length]; // rejection sampling: no modulo bias
    }
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
}

/** Recovery codes are stored as SHA-256 of their canonical form (they are random, not passwords). */
export function hashRecoveryCode(code: string): Promise<string> {
  return sha256Hex(
    code
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]/g, ""),
  );
}
