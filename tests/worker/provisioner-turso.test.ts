import { describe, expect, it } from "vitest";
import { TursoProvisioner } from "../../src/db/provisioner/turso";
import { ProvisioningError } from "../../src/db/provisioner/types";

/**
 * A local fake of Turso's Platform API (the documented endpoints the provisioner uses), so the
 * real provisioner code runs against real HTTP semantics: bearer auth, 409 on an existing name,
 * 404 on a missing one, JSON bodies shaped like Turso's.
 */
function fakeTurso(opts: { token: string; org: string; failTokens?: boolean }) {
  const dbs = new Map<string, { Name: string; DbId: string; Hostname: string; group: string }>();
  const calls: string[] = [];
  const fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    calls.push(`${req.method} ${url.pathname}${url.search}`);
    const json = (status: number, body: unknown) => Response.json(body, { status });
    if (req.headers.get("authorization") !== `Bearer ${opts.token}`) return json(401, { error: "unauthorized" });
    const base = `/v1/organizations/${opts.org}/databases`;
    if (!url.pathname.startsWith(base)) return json(404, { error: "organization not found" });
    const rest = url.pathname.slice(base.length).split("/").filter(Boolean);
    if (req.method === "POST" && rest.length === 0) {
      const body = (await req.json()) as { name?: string; group?: string };
      if (!body.name || !/^[a-z0-9-]{1,64}$/.test(body.name)) return json(400, { error: "invalid name" });
      if (!body.group) return json(400, { error: "group is required" });
      if (dbs.has(body.name)) return json(409, { error: "database already exists" });
      const db = {
        Name: body.name,
        DbId: crypto.randomUUID(),
        Hostname: `${body.name}-${opts.org}.turso.io`,
        group: body.group,
      };
      dbs.set(body.name, db);
      return json(200, { database: { DbId: db.DbId, Hostname: db.Hostname, Name: db.Name } });
    }
    const db = rest[0] ? dbs.get(rest[0]) : undefined;
    if (!db) return json(404, { error: "database not found" });
    if (req.method === "GET" && rest.length === 1) return json(200, { database: db });
    if (req.method === "DELETE" && rest.length === 1) {
      dbs.delete(db.Name);
      return json(200, { database: db.Name });
    }
    if (req.method === "POST" && rest[1] === "auth" && rest[2] === "tokens") {
      if (opts.failTokens) return json(500, { error: "internal" });
      return json(200, { jwt: `jwt-for-${db.Name}-${url.searchParams.get("authorization")}` });
    }
    return json(404, { error: "not found" });
  };
  return { fetch, dbs, calls };
}

const make = (fake: ReturnType<typeof fakeTurso>, token = "api-token") =>
  new TursoProvisioner({
    apiUrl: "https://api.turso.test",
    apiToken: token,
    organization: "acme-org",
    group: "eu",
    fetch: fake.fetch,
  });

describe("Turso provisioner against a fake of the Platform API", () => {
  it("creates a database in the group and mints a full-access database token", async () => {
    const fake = fakeTurso({ token: "api-token", org: "acme-org" });
    const db = await make(fake).create("t-abc");
    expect(db).toEqual({
      provider: "turso",
      name: "t-abc",
      url: "https://t-abc-acme-org.turso.io",
      token: "jwt-for-t-abc-full-access",
    });
    expect(fake.dbs.get("t-abc")?.group).toBe("eu");
    expect(fake.calls).toContain(
      "POST /v1/organizations/acme-org/databases/t-abc/auth/tokens?expiration=never&authorization=full-access",
    );
  });

  it("adopts an existing database on retry (409) instead of failing", async () => {
    const fake = fakeTurso({ token: "api-token", org: "acme-org" });
    const p = make(fake);
    await p.create("t-retry");
    const again = await p.create("t-retry");
    expect(again.url).toBe("https://t-retry-acme-org.turso.io");
    expect(fake.dbs.size).toBe(1);
  });

  it("destroys idempotently", async () => {
    const fake = fakeTurso({ token: "api-token", org: "acme-org" });
    const p = make(fake);
    await p.create("t-gone");
    await p.destroy("t-gone");
    await p.destroy("t-gone");
    expect(fake.dbs.size).toBe(0);
  });

  it("surfaces auth and server failures as ProvisioningError with the status", async () => {
    const fake = fakeTurso({ token: "api-token", org: "acme-org" });
    const err = await make(fake, "wrong")
      .create("t-x")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProvisioningError);
    expect((err as ProvisioningError).status).toBe(401);
    const failing = fakeTurso({ token: "api-token", org: "acme-org", failTokens: true });
    await expect(make(failing).create("t-y")).rejects.toBeInstanceOf(ProvisioningError);
  });
});
