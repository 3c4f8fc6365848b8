import { CanopyError } from "./errors.js";
import type { components } from "./schema.gen.js";
import type { TokenStorage } from "./storage.js";
import type { Credentials, Fetch } from "./transport.js";

/** What the server answers a completed sign-in or a refresh with (the OpenAPI `Tokens` schema). */
export type Tokens = components["schemas"]["Tokens"];

export interface Device {
  id: string;
  name?: string;
  platform?: string;
}

export type SignInResult = { status: "signedIn"; sessionId: string } | { status: "mfaRequired"; mfaToken: string };

export interface AuthEvents {
  /** The session ended: signed out here, or refused by the server (revoked, expired, user suspended). */
  signedOut: { reason: "signOut" | "refused"; code?: string };
  /** New tokens were stored (sign-in, MFA step, refresh). */
  tokens: { sessionId: string };
}

type Listener<K extends keyof AuthEvents> = (e: AuthEvents[K]) => void;

const KEY = "session";

/** The claims the client reads from its own access token (never trusted for anything but timing). */
function expiryOf(accessToken: string): number | null {
  try {
    const part = accessToken.split(".")[1] ?? "";
    const json = atob(
      part
        .replace(/-/g, "+")
        .replace(/_/g, "/")
        .padEnd(Math.ceil(part.length / 4) * 4, "="),
    );
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/**
 * The signed-in session: sign-in (with the MFA step), the tokens in a {@link TokenStorage},
 * refresh ahead of expiry and after a 401 (one refresh at a time however many calls need it),
 * sign-out, and one `signedOut` event when the session ends.
 */
export class Auth implements Credentials {
  private tokens: Tokens | null | undefined; // undefined: not read from storage yet
  private refreshing: Promise<boolean> | null = null;
  private readonly listeners: { [K in keyof AuthEvents]: Set<Listener<K>> } = {
    signedOut: new Set(),
    tokens: new Set(),
  };

  constructor(
    private readonly send: Fetch,
    private readonly baseUrl: string,
    private readonly storage: TokenStorage,
    private readonly device: Device | undefined,
    private readonly refreshAheadSeconds = 30,
  ) {}

  on<K extends keyof AuthEvents>(event: K, fn: Listener<K>): () => void {
    this.listeners[event].add(fn);
    return () => this.listeners[event].delete(fn);
  }

  /** Password sign-in; an account with MFA answers `mfaRequired` and its token for {@link verifyMfa}. */
  async signIn(input: { identifier: string; password: string; device?: Device }): Promise<SignInResult> {
    const deviceToken = (await this.storage.get("deviceToken")) ?? undefined;
    const body = await this.post<Tokens | { mfaRequired: true; mfaToken: string }>("/v1/auth/login", {
      identifier: input.identifier,
      password: input.password,
      ...((input.device ?? this.device) ? { device: input.device ?? this.device } : {}),
      ...(deviceToken ? { deviceToken } : {}),
    });
    if ("mfaToken" in body) return { status: "mfaRequired", mfaToken: body.mfaToken };
    await this.store(body);
    return { status: "signedIn", sessionId: body.sessionId };
  }

  /** Creates an account (email, username or phone, and a password) and signs it in. */
  async signUp(input: {
    email?: string;
    username?: string;
    phone?: string;
    password: string;
    device?: Device;
  }): Promise<{ sessionId: string }> {
    const { device, ...account } = input;
    const tokens = await this.post<Tokens>("/v1/auth/register", {
      ...account,
      ...((device ?? this.device) ? { device: device ?? this.device } : {}),
    });
    await this.store(tokens);
    return { sessionId: tokens.sessionId };
  }

  /** The second step of an MFA sign-in: a TOTP or recovery code. */
  async verifyMfa(mfaToken: string, code: string): Promise<{ sessionId: string }> {
    const tokens = await this.post<Tokens>("/v1/auth/mfa/verify", { mfaToken, code });
    await this.store(tokens);
    return { sessionId: tokens.sessionId };
  }

  /** Ends the session on the server (best effort) and here; emits `signedOut`. */
  async signOut(): Promise<void> {
    const t = await this.current();
    if (t) {
      const req = new Request(`${this.baseUrl}/v1/auth/logout`, {
        method: "POST",
        headers: { authorization: `Bearer ${t.accessToken}` },
      });
      await this.send(req).then(
        (r) => r.body?.cancel(),
        () => undefined,
      );
    }
    await this.end({ reason: "signOut" });
  }

  /** The session's id, or null when signed out. */
  async sessionId(): Promise<string | null> {
    return (await this.current())?.sessionId ?? null;
  }

  async token(): Promise<string | null> {
    const t = await this.current();
    if (!t) return null;
    const exp = expiryOf(t.accessToken);
    if (exp !== null && exp - Date.now() < this.refreshAheadSeconds * 1000) {
      await this.refresh();
      return (await this.current())?.accessToken ?? null;
    }
    return t.accessToken;
  }

  async recover(used: string): Promise<boolean> {
    const t = await this.current();
    if (!t) return false;
    if (t.accessToken !== used) return true; // another call refreshed meanwhile
    return this.refresh();
  }

  /** Rotates the refresh token; concurrent callers share one request. False when the session is gone. */
  refresh(): Promise<boolean> {
    this.refreshing ??= this.rotate().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async rotate(): Promise<boolean> {
    const t = await this.current();
    if (!t) return false;
    try {
      await this.store(await this.post<Tokens>("/v1/auth/refresh", { refreshToken: t.refreshToken }));
      return true;
    } catch (err) {
      // The refresh token was refused: the session is over. Anything else (network) may pass.
      if (err instanceof CanopyError && err.status === 401) {
        await this.end({ reason: "refused", code: err.code });
        return false;
      }
      throw err;
    }
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    const res = await this.send(
      new Request(`${this.baseUrl}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    if (!res.ok) throw await CanopyError.from(res);
    return (await res.json()) as T;
  }

  private async current(): Promise<Tokens | null> {
    if (this.tokens === undefined) {
      const raw = await this.storage.get(KEY);
      this.tokens = raw ? (JSON.parse(raw) as Tokens) : null;
    }
    return this.tokens;
  }

  private async store(t: Tokens): Promise<void> {
    const previous = await this.current();
    const tokens = { ...t, deviceToken: t.deviceToken ?? previous?.deviceToken };
    this.tokens = tokens;
    await this.storage.set(KEY, JSON.stringify(tokens));
    if (t.deviceToken) await this.storage.set("deviceToken", t.deviceToken);
    for (const fn of this.listeners.tokens) fn({ sessionId: t.sessionId });
  }

  private async end(e: AuthEvents["signedOut"]): Promise<void> {
    const had = (await this.current()) !== null;
    this.tokens = null;
    await this.storage.remove(KEY);
    if (had) for (const fn of this.listeners.signedOut) fn(e);
  }
}
