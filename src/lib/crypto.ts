import { base64url, fromBase64url } from "./ids";
import { SettledCache } from "./settled-cache";

const encoder = new TextEncoder();

/** SHA-256 of a string, as bytes. */
export async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

export async function sha256Hex(text: string): Promise<string> {
  return [...(await sha256(text))].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Constant-time string comparison. Both sides are hashed first so inputs of different
 * lengths take the same time and the length of the secret does not leak.
 */
export async function constantTimeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([sha256(a), sha256(b)]);
  let diff = 0;
  for (let i = 0; i < ha.length; i++) diff |= ha[i]! ^ hb[i]!;
  return diff === 0;
}

// AES-GCM keys are imported once per isolate per key string: imports cost more than the
// encryption itself and tenant resolution decrypts on every cache miss.
const keyCache = new SettledCache<CryptoKey>(16);

function importAesKey(secret: string): Promise<CryptoKey> {
  return keyCache.get(
    secret,
    () => true,
    () => {
      const raw = fromBase64url(secret);
      if (raw.length !== 32) throw new Error("DB_ENCRYPTION_KEY must be 32 bytes, base64url-encoded");
      return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    },
  );
}

/**
 * Encrypts a secret for storage at rest: `v1.<iv>.<ciphertext>` (base64url). `context` is
 * bound as additional data, so a ciphertext copied onto another tenant's row fails to decrypt.
 */
export async function sealSecret(keySecret: string, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await importAesKey(keySecret);
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    key,
    encoder.encode(plaintext),
  );
  return `v1.${base64url(iv)}.${base64url(new Uint8Array(ct))}`;
}

/** Reverses {@link sealSecret}; throws when the key, context or ciphertext do not match. */
export async function openSecret(keySecret: string, sealed: string, context: string): Promise<string> {
  const [version, iv, ct] = sealed.split(".");
  if (version !== "v1" || !iv || !ct) throw new Error("unsupported sealed secret format");
  const key = await importAesKey(keySecret);
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64url(iv), additionalData: encoder.encode(context) },
    key,
    fromBase64url(ct),
  );
  return new TextDecoder().decode(pt);
}

const hmacKeys = new SettledCache<CryptoKey>(16);

/**
 * HMAC-SHA256 of `text` under a secret, hex: for low-entropy secrets stored at rest (a 6-digit
 * emailed code), which a plain hash would not protect from a brute force of a leaked table.
 */
export async function hmacHex(keySecret: string, text: string): Promise<string> {
  const key = await hmacKeys.get(
    keySecret,
    () => true,
    () => crypto.subtle.importKey("raw", encoder.encode(keySecret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]),
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}
