import { z } from "zod";
import { describeFailure, ProvisioningError, type FetchFn, type ProvisionedDatabase, type Provisioner } from "./types";

/** Options of the Turso Platform API provisioner. */
export interface TursoOptions {
  /** https://api.turso.tech in production. */
  apiUrl: string;
  apiToken: string;
  organization: string;
  /** The group (location + replicas) new databases are placed in. */
  group: string;
  fetch?: FetchFn;
}

const DatabaseResponse = z.object({
  database: z.object({ Name: z.string(), Hostname: z.string() }).passthrough(),
});
const TokenResponse = z.object({ jwt: z.string().min(1) });

/**
 * Provisions tenant databases through Turso's Platform API: one database per tenant in a group,
 * plus a full-access database token (never the organisation's API token) for the Worker.
 * Endpoints: POST/GET/DELETE /v1/organizations/{org}/databases[/{name}] and
 * POST /v1/organizations/{org}/databases/{name}/auth/tokens.
 */
export class TursoProvisioner implements Provisioner {
  readonly provider = "turso" as const;
  private readonly fetch: FetchFn;

  constructor(private readonly opts: TursoOptions) {
    this.fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  private url(path: string): string {
    return `${this.opts.apiUrl.replace(/\/$/, "")}/v1/organizations/${encodeURIComponent(this.opts.organization)}${path}`;
  }

  private call(method: string, path: string, body?: unknown): Promise<Response> {
    return this.fetch(this.url(path), {
      method,
      headers: { authorization: `Bearer ${this.opts.apiToken}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async create(name: string): Promise<ProvisionedDatabase> {
    let res = await this.call("POST", "/databases", { name, group: this.opts.group });
    // 409: the database exists already (an earlier attempt got this far); adopt it.
    if (res.status === 409) res = await this.call("GET", `/databases/${encodeURIComponent(name)}`);
    if (!res.ok)
      throw new ProvisioningError(`Turso: creating database ${name} failed: ${await describeFailure(res)}`, res.status);
    const db = DatabaseResponse.safeParse(await res.json());
    if (!db.success) throw new ProvisioningError(`Turso: unexpected database response for ${name}`);

    const tokenRes = await this.call(
      "POST",
      `/databases/${encodeURIComponent(name)}/auth/tokens?expiration=never&authorization=full-access`,
    );
    if (!tokenRes.ok)
      throw new ProvisioningError(
        `Turso: minting a token for ${name} failed: ${await describeFailure(tokenRes)}`,
        tokenRes.status,
      );
    const token = TokenResponse.safeParse(await tokenRes.json());
    if (!token.success) throw new ProvisioningError(`Turso: unexpected token response for ${name}`);

    return { provider: "turso", name, url: `https://${db.data.database.Hostname}`, token: token.data.jwt };
  }

  async destroy(name: string): Promise<void> {
    const res = await this.call("DELETE", `/databases/${encodeURIComponent(name)}`);
    if (res.ok || res.status === 404) return;
    throw new ProvisioningError(`Turso: deleting database ${name} failed: ${await describeFailure(res)}`, res.status);
  }
}
