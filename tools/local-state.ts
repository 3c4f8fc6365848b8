/**
 * Where `npm run dev` keeps local state (one git-ignored folder, wiped by `npm run reset`) and
 * the secrets it generated on first start, reused on every restart so data stays readable.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const root = new URL("..", import.meta.url).pathname;
export const stateDir = join(root, ".canopy");
export const libsqlDir = join(stateDir, "libsql");
export const wranglerDir = join(stateDir, "wrangler");
export const devVarsPath = join(root, ".dev.vars");

export interface LocalSecrets {
  adminToken: string;
  libsqlSecret: string;
  encryptionKey: string;
}

export function localSecrets(): LocalSecrets {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, "secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as LocalSecrets;
  const secrets: LocalSecrets = {
    adminToken: randomBytes(24).toString("base64url"),
    libsqlSecret: randomBytes(24).toString("base64url"),
    encryptionKey: randomBytes(32).toString("base64url"),
  };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
