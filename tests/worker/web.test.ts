import { describe, expect, it } from "vitest";
import { APP_CSP } from "../../src/workers/gateway/middleware/security-headers";
import { call, expectProblem } from "./helpers";

describe("the console's files, served by the Worker", () => {
  it("answers the page, its script and stylesheet with the apps' CSP; anything else is a 4xx problem", async () => {
    const page = await call("/console/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toBe(APP_CSP);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    expect(await page.text()).toContain('<script type="module" src="/console/console.js"></script>');
    const etag = page.headers.get("etag");
    expect(etag).toBeTruthy();
    const again = await call("/console/", { headers: { "if-none-match": etag ?? "" } });
    expect(again.status).toBe(304);
    expect(again.headers.get("content-security-policy")).toBe(APP_CSP);
    const script = await call("/console/console.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("content-type")).toContain("javascript");
    expect(script.headers.get("content-security-policy")).toBe(APP_CSP);
    expect((await call("/console/console.css")).headers.get("content-type")).toContain("text/css");
    const bare = await call("/console");
    expect(bare.status).toBe(200);
    expect(await bare.text()).toContain("<title>Canopy console</title>");

    await expectProblem(await call("/console/missing.js"), 404, "route_not_found");
    // Only the app's own files: no other folder of the assets, no way up.
    for (const path of ["/console/..%2f..%2fwrangler.toml", "/console/%2e%2e", "/console/.env", "/console/a%00b"])
      expect((await call(path)).status).toBeGreaterThanOrEqual(400);
    await expectProblem(await call("/console/index.html", { method: "POST" }), 405, "method_not_allowed");
  });
});
