import { env } from "cloudflare:test";
import { describe, expect, inject, it, vi } from "vitest";
import { metricsSink } from "../../src/durable/protocol/metrics-sink";
import { withAnalyticsEngine } from "../../src/lib/metrics/analytics-engine";
import { METRICS } from "../../src/lib/metrics/catalogue";
import { type MetricBatch, Recorder } from "../../src/lib/metrics/recorder";
import { readTenantSamples } from "../../src/workers/ops/metrics-read";
import { as, bearer, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";
import { connect } from "./socket-helpers";
import dashboard from "../../ops/grafana/canopy.json";
import alertRules from "../../ops/prometheus/alerts.yml?raw";

interface Series {
  labels: Record<string, string>;
  value: number;
}
interface Histogram {
  labels: Record<string, string>;
  count: number;
  sumSeconds: number;
  buckets: { le: number | "+Inf"; count: number }[];
}
type TenantMetrics = { generatedAt: string; metrics: Record<string, (Series | Histogram)[]> };

const scrape = (token: string, accept?: string) =>
  call("/metrics", { headers: { ...bearer(token), ...(accept ? { accept } : {}) } });

/** The tenant's figures once the flushed deltas reached the aggregator (flushes are at most ~1 s apart). */
async function tenantMetrics(
  slug: string,
  who: { tokens: { accessToken: string } },
  until: (m: TenantMetrics) => void,
) {
  return vi.waitFor(
    async () => {
      const res = await call("/v1/admin/metrics", as(slug, who as never));
      expect(res.status, await res.clone().text()).toBe(200);
      const m = await res.json<TenantMetrics>();
      until(m);
      return m;
    },
    { timeout: 15_000, interval: 250 },
  );
}

const seriesOf = (m: TenantMetrics, name: string) => (m.metrics[name] ?? []) as Series[];

describe("GET /metrics", () => {
  it("passes promtool check metrics, lists every family, and speaks OpenMetrics when asked", async () => {
    // Something to show: a request or two, flushed.
    await call("/healthz");
    const res = await vi.waitFor(
      async () => {
        const r = await scrape(env.METRICS_TOKEN);
        expect(r.status).toBe(200);
        const text = await r.clone().text();
        expect(text).toMatch(/^canopy_http_requests_total\{route="\/healthz",method="GET",status="200"\} \d+$/m);
        return r;
      },
      { timeout: 15_000, interval: 250 },
    );
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    for (const name of Object.keys(METRICS)) expect(text).toContain(`# TYPE ${name} `);
    const verdict = await (
      await fetch(`${inject("promtool").url}/check/metrics`, { method: "POST", body: text })
    ).json<{ exitCode: number; output: string }>();
    expect(verdict, verdict.output).toMatchObject({ exitCode: 0 });
    // Histograms are cumulative and end at +Inf = _count.
    const buckets = [
      ...text.matchAll(
        /^canopy_http_request_duration_seconds_bucket\{route="\/healthz",method="GET",le="([^"]+)"\} (\d+)$/gm,
      ),
    ];
    const counts = buckets.map((m) => Number(m[2]));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    const total = /^canopy_http_request_duration_seconds_count\{route="\/healthz",method="GET"\} (\d+)$/m.exec(text);
    expect(buckets.at(-1)![1]).toBe("+Inf");
    expect(counts.at(-1)).toBe(Number(total![1]));

    const om = await scrape(env.ADMIN_TOKEN, "application/openmetrics-text; version=1.0.0,text/plain;q=0.5");
    expect(om.headers.get("content-type")).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");
    const omText = await om.text();
    expect(omText.endsWith("# EOF\n")).toBe(true);
    expect(omText).toContain("# TYPE canopy_http_requests counter\n");
  });

  it("needs the scrape token or the admin token: none, wrong, short and tenant tokens get 401", async () => {
    const { tenant, owner } = await tenantWithOwner();
    await expectProblem(await call("/metrics"), 401, "metrics_unauthorized");
    await expectProblem(await scrape("x".repeat(32)), 401, "metrics_unauthorized");
    await expectProblem(await scrape(env.METRICS_TOKEN.slice(0, 8)), 401, "metrics_unauthorized");
    await expectProblem(await scrape(owner.tokens.accessToken), 401, "metrics_unauthorized");
    await expectProblem(
      await call("/metrics", { tenant: tenant.slug, headers: { authorization: `Basic ${btoa("a:b")}` } }),
      401,
      "metrics_unauthorized",
    );
  });
});

describe("ops/: the dashboard and the alert rules", () => {
  it("use only metrics that exist in the exposition", async () => {
    const text = await (await scrape(env.METRICS_TOKEN)).text();
    const families = new Set([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => m[1]!));
    const exprs = [
      ...dashboard.panels.flatMap((p) => ("targets" in p ? (p.targets ?? []).map((t) => t.expr) : [])),
      ...alertRules.split("\n").filter((l: string) => /^\s+expr:/.test(l) || /^\s{12}\S/.test(l)),
    ];
    const names = new Set(exprs.flatMap((e) => [...e.matchAll(/\b(canopy_[a-z0-9_]+)/g)].map((m) => m[1]!)));
    expect(names.size).toBeGreaterThan(15);
    const family = (n: string) => (families.has(n) ? n : n.replace(/_(bucket|sum|count)$/, ""));
    const unknown = [...names].filter((n) => !families.has(family(n)));
    expect(unknown).toEqual([]);
  });
});

describe("metrics across isolates", () => {
  it("are exact after requests: a tenant sees its own counts, latency histogram and auth events", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const slug = tenant.slug;
    const u = await registerUser(slug); // which calls GET /v1/me once
    for (let i = 0; i < 7; i++) expect((await call("/v1/me", as(slug, u))).status).toBe(200);
    await expectProblem(await call("/v1/users/nope", as(slug, u)), 404, "user_not_found");
    const m = await tenantMetrics(slug, owner, (m) => {
      const me = seriesOf(m, "canopy_http_requests_total").find(
        (s) => s.labels.route === "/v1/me" && s.labels.method === "GET" && s.labels.status === "200",
      );
      expect(me?.value).toBe(8);
    });
    const missing = seriesOf(m, "canopy_http_requests_total").find((s) => s.labels.route === "/v1/users/:id");
    expect(missing).toMatchObject({ labels: { status: "404" }, value: 1 });
    // Never a raw path as a label.
    expect(JSON.stringify(m)).not.toContain("/v1/users/nope");
    const latency = (m.metrics.canopy_http_request_duration_seconds as Histogram[]).find(
      (h) => h.labels.route === "/v1/me",
    )!;
    expect(latency.count).toBe(8);
    expect(latency.buckets.at(-1)).toEqual({ le: "+Inf", count: 8 });
    const auth = seriesOf(m, "canopy_auth_events_total");
    expect(auth.find((s) => s.labels.kind === "register")?.value).toBe(1);
    // The owner's sign-in and the user's registration session.
    expect(auth.find((s) => s.labels.kind === "login")?.value).toBe(2);
  });

  it("sum many isolates' batches exactly once, through lost answers and failed sends", async () => {
    const tenantId = `metrics-${crypto.randomUUID()}`;
    const real = metricsSink(env);
    let calls = 0;
    // Every third send is applied but its answer is lost; every fourth never arrives.
    const flaky = {
      async ingest(batch: MetricBatch) {
        const n = ++calls;
        if (n % 4 === 0) throw new Error("network down");
        await real.ingest(batch);
        if (n % 3 === 0) throw new Error("answer lost");
      },
    };
    const isolates = Array.from({ length: 12 }, () => new Recorder());
    let expected = 0;
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        isolates.map(async (r, i) => {
          const n = i + round + 1;
          r.add("canopy_messages_total", {}, n, tenantId);
          r.observe("canopy_queue_lag_seconds", { queue: "canopy-test" }, 0.2 * n, tenantId);
          expected += n;
          await r.flush(flaky);
        }),
      );
    }
    // Whatever is left over is delivered by later flushes, each batch under its first id.
    for (let i = 0; i < 10 && isolates.some((r) => r.unsent > 0); i++)
      await Promise.all(isolates.map((r) => r.flush(real)));
    expect(isolates.map((r) => r.unsent)).toEqual(isolates.map(() => 0));
    const samples = await readTenantSamples(env, tenantId);
    const value = (name: string) => samples.find((s) => s.name === name)?.value;
    expect(calls).toBeGreaterThan(20);
    expect(value("canopy_messages_total")).toBe(expected);
    expect(value("canopy_queue_lag_seconds_count")).toBe(60);
  });

  it("count open sockets up on accept and down on close, per tenant", async () => {
    const { tenant } = await tenantWithOwner();
    const u = await registerUser(tenant.slug);
    const open = async () =>
      (await readTenantSamples(env, tenant.id)).find((s) => s.name === "canopy_ws_connections")?.value ?? 0;
    const [a, b] = [
      await connect(tenant.slug, { token: u.tokens.accessToken }),
      await connect(tenant.slug, { token: u.tokens.accessToken }),
    ];
    await vi.waitFor(async () => expect(await open()).toBe(2), { timeout: 10_000, interval: 200 });
    a.ws.close(1000, "bye");
    await vi.waitFor(async () => expect(await open()).toBe(1), { timeout: 10_000, interval: 200 });
    b.ws.close(1000, "bye");
    await vi.waitFor(async () => expect(await open()).toBe(0), { timeout: 10_000, interval: 200 });
  });

  it("go to Workers Analytics Engine as well when its dataset is bound, once the aggregator took the batch", async () => {
    const tenantId = `metrics-${crypto.randomUUID()}`;
    const points: AnalyticsEngineDataPoint[] = [];
    // Analytics Engine lies outside the system: its binding is stood in for by one that keeps the points.
    const dataset = { writeDataPoint: (p?: AnalyticsEngineDataPoint) => void (p && points.push(p)) };
    const sink = metricsSink({ ...env, METRICS_ANALYTICS: dataset });
    const r = new Recorder();
    r.add("canopy_messages_total", {}, 7, tenantId);
    await r.flush(sink);
    expect(points).toEqual([
      { indexes: [tenantId], blobs: ["canopy_messages_total", "", tenantId, expect.any(String)], doubles: [7] },
    ]);
    const samples = await readTenantSamples(env, tenantId);
    expect(samples.find((s) => s.name === "canopy_messages_total")?.value).toBe(7);
    // A batch the aggregator did not take writes no point (its retry will).
    const failing = withAnalyticsEngine({ ingest: () => Promise.reject(new Error("down")) }, dataset);
    r.add("canopy_messages_total", {}, 1, tenantId);
    await r.flush(failing);
    const messages = () => points.filter((p) => p.blobs?.[0] === "canopy_messages_total").map((p) => p.doubles?.[0]);
    expect(messages()).toEqual([7]);
    await r.flush(sink);
    expect(messages()).toEqual([7, 1]);
  });
});

describe("GET /v1/admin/metrics", () => {
  it("is for readers of statistics of that tenant only", async () => {
    const { tenant, owner } = await tenantWithOwner();
    const other = await tenantWithOwner();
    const member = await registerUser(tenant.slug);
    await expectProblem(await call("/v1/admin/metrics", as(tenant.slug, member)), 403, "forbidden");
    expect((await call("/v1/admin/metrics", as(other.tenant.slug, owner))).status).toBe(401);
    expect((await call("/v1/admin/metrics", { tenant: tenant.slug })).status).toBe(401);
    const own = await call("/v1/admin/metrics", as(tenant.slug, owner));
    expect(own.status).toBe(200);
    // API keys: with stats:read, and only with it.
    const keyOf = async (permissions: string[]) => {
      const res = await call("/v1/admin/api-keys", {
        method: "POST",
        ...as(tenant.slug, owner),
        json: { name: "metrics", permissions },
      });
      expect(res.status, await res.clone().text()).toBe(201);
      return { tenant: tenant.slug, headers: bearer((await res.json<{ key: string }>()).key) };
    };
    await expectProblem(await call("/v1/admin/metrics", await keyOf(["users:read"])), 403, "forbidden");
    expect((await call("/v1/admin/metrics", await keyOf(["stats:read"]))).status).toBe(200);
    // A forged token is refused.
    const [h, , sig] = owner.tokens.accessToken.split(".");
    const forged = `${h}.${btoa(JSON.stringify({ sub: "x", tid: other.tenant.id })).replace(/=+$/, "")}.${sig}`;
    expect((await call("/v1/admin/metrics", { tenant: tenant.slug, headers: bearer(forged) })).status).toBe(401);
    // Another tenant's traffic never shows here.
    const theirs = await tenantMetrics(other.tenant.slug, other.owner, (m) =>
      expect(seriesOf(m, "canopy_auth_events_total").length).toBeGreaterThan(0),
    );
    const mine = await (await call("/v1/admin/metrics", as(tenant.slug, owner))).json<TenantMetrics>();
    expect(seriesOf(mine, "canopy_auth_events_total").find((s) => s.labels.kind === "register")?.value).toBe(1);
    expect(seriesOf(theirs, "canopy_auth_events_total").find((s) => s.labels.kind === "register")).toBeUndefined();
  });
});
