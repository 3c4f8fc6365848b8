import { describe, expect, it } from "vitest";
import { call, expectProblem } from "./helpers";

describe("admin API authentication", () => {
  it("rejects a request without a token", async () => {
    const res = await call("/admin/v1/tenants");
    await expectProblem(res, 401, "admin_unauthorized");
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
  });

  it("rejects a wrong token, a prefix of the right one, and other schemes", async () => {
    for (const authorization of [
      "Bearer wrong-token-wrong-token",
      "Bearer x",
      "Basic YWRtaW46YWRtaW4=",
      "Bearer",
      "",
    ]) {
      const res = await call("/admin/v1/tenants", { headers: { authorization } });
      await expectProblem(res, 401, "admin_unauthorized");
    }
  });

  it("rejects before parsing the body: no token + malformed JSON is still 401", async () => {
    const res = await call("/admin/v1/tenants", {
      method: "POST",
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    await expectProblem(res, 401, "admin_unauthorized");
  });

  it("accepts the platform admin token", async () => {
    const res = await call("/admin/v1/tenants", { admin: true });
    expect(res.status).toBe(200);
  });
});
