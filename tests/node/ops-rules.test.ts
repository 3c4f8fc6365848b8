import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const dir = new URL("../../ops/prometheus/", import.meta.url).pathname;

/** promtool's verdict: exit code and output (a failing check rejects; its output is the reason). */
async function promtool(...args: string[]): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run("promtool", args, { cwd: dir });
    return { ok: true, output: stdout + stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ""}${e.stderr ?? e.message}` };
  }
}

describe("ops/prometheus", () => {
  it("the alert rules pass promtool check rules", async () => {
    const r = await promtool("check", "rules", "alerts.yml");
    expect(r.ok, r.output).toBe(true);
    expect(r.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it("every alert fires on its trouble and stays quiet when healthy (promtool test rules)", async () => {
    const r = await promtool("test", "rules", "alerts.test.yml");
    expect(r.ok, r.output).toBe(true);
  });

  it("the scrape config is valid Prometheus configuration", async () => {
    const r = await promtool("check", "config", "--syntax-only", "prometheus.yml");
    expect(r.ok, r.output).toBe(true);
  });
});
