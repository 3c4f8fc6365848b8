import { AppError } from "./errors";
import { commonPasswords } from "./password-blocklist.gen";

/**
 * NIST SP 800-63B: at least 8 characters, up to 128 accepted (the guideline asks for at least
 * 64), every printable character and space allowed, no composition rules, and a blocklist of
 * passwords known from breaches plus ones derived from the account's own identifiers.
 */
export const MIN_PASSWORD = 8;
export const MAX_PASSWORD = 128;

let blocklist: Set<string> | undefined;

export function checkPasswordPolicy(password: string, identifiers: (string | undefined)[] = []): void {
  const length = [...password.normalize("NFKC")].length;
  if (length < MIN_PASSWORD) throw weak(`The password must be at least ${MIN_PASSWORD} characters long.`);
  if (length > MAX_PASSWORD) throw weak(`The password must be at most ${MAX_PASSWORD} characters long.`);
  const lower = password.toLowerCase();
  blocklist ??= new Set(commonPasswords);
  if (blocklist.has(lower)) throw weak("This password is too common; choose one that is harder to guess.");
  for (const id of identifiers) {
    const local = id?.toLowerCase().split("@")[0];
    if (local && local.length >= 3 && lower.includes(local))
      throw weak("The password must not contain your email or username.");
  }
}

function weak(detail: string): AppError {
  return new AppError("weak_password", detail, { errors: [{ path: "password", message: detail }] });
}
