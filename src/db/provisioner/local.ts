import { z } from "zod";
import { describeFailure, ProvisioningError, type FetchFn, type ProvisionedDatabase, type Provisioner } from "./types";

export interface LocalOptions {
  /** Origin of the local libSQL server (tools/libsql-server), e.g. http://127.0.0.1:8081. */
  adminUrl: string;
  /** The server's master secret; it answers with a per-namespace token. */
  adminToken: string;
  fetch?: FetchFn;
}

const Created = z.object({ namespace: z.string(), url: z.string().url(), token: z.string().min(1) });

/**
 * Provisions tenant databases as namespaces of Canopy's local libSQL server, through its
 * sqld-style admin API (POST /v1/namespaces/{ns}/create, DELETE /v1/namespaces/{ns}; GET
 * /v1/namespaces/{ns} answers the same `{ url, token }` for an existing namespace).
 */
export class LocalProvisioner implements Provisioner {
  readonly provider = "local" as const;
  private readonly fetch: FetchFn;

  constructor(private readonly opts: LocalOptions) {
    this.fetch = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  private call(method: string, path: string): Promise<Response> {
    return this.fetch(`${this.opts.adminUrl.replace(/\/$/, "")}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.opts.adminToken}`, "content-type": "application/json" },
      body: method === "POST" ? "{}" : undefined,
    });
  }

  async create(name: string): Promise<ProvisionedDatabase> {
    let res = await this.call("POST", `/v1/namespaces/${encodeURIComponent(name)}/create`);
    // 409: it exists (an earlier attempt got this far); adopt it, as the interface promises.
    if (res.status === 409) res = await this.call("GET", `/v1/namespaces/${encodeURIComponent(name)}`);
    if (!res.ok)
      throw new ProvisioningError(
        `local libSQL: creating namespace ${name} failed: ${await describeFailure(res)}`,
        res.status,
      );
    const body = Created.safeParse(await res.json());
    if (!body.success) throw new ProvisioningError(`local libSQL: unexpected create response for ${name}`);
    return { provider: "local", name, url: body.data.url, token: body.data.token };
  }

  async destroy(name: string): Promise<void> {
    const res = await this.call("DELETE", `/v1/namespaces/${encodeURIComponent(name)}`);
    if (res.ok || res.status === 404) return;
    throw new ProvisioningError(
      `local libSQL: deleting namespace ${name} failed: ${await describeFailure(res)}`,
      res.status,
    );
  }
}
