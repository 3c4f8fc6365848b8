/** Where a tenant database lives and how to reach it. */
export interface ProvisionedDatabase {
  provider: "local" | "turso";
  /** Provider-side name (namespace or Turso database name). */
  name: string;
  /** Hrana base URL the Worker's @libsql/client connects to. */
  url: string;
  /** Credential for that database only (sealed before it is stored). */
  token: string;
}

/**
 * Creates and destroys tenant databases. Both operations are idempotent, so a provisioning
 * step that failed halfway can simply be run again.
 */
export interface Provisioner {
  readonly provider: ProvisionedDatabase["provider"];
  create(name: string): Promise<ProvisionedDatabase>;
  destroy(name: string): Promise<void>;
}

export class ProvisioningError extends Error {
  override readonly name = "ProvisioningError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export type FetchFn = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** Reads a JSON error body for a message, without trusting its shape. */
export async function describeFailure(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  return `HTTP ${res.status}${text ? `: ${text.slice(0, 300)}` : ""}`;
}
