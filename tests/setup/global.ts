/**
 * Vitest global setup (Node): starts the real local libSQL server on a free port with a fresh
 * data folder, creates and migrates the platform database, and hands the Worker its URLs and
 * secrets through `provide` (read by vitest.config.ts for the Miniflare bindings and by tests
 * through `inject`). Also starts a throwaway redis-server behind the local Upstash REST adapter
 * (tools/upstash-adapter) for the Upstash rate-limit store's tests (`inject("upstash")`), and a
 * recording webhook receiver for the webhook tests (`inject("webhookReceiver")`), and the local
 * mail catcher (tools/mail-catcher) that the Worker's Resend transport delivers to
 * (`inject("mail")`: its URL and token, which vitest.config.ts passes as MAIL_API_URL/_KEY), and
 * a fake Stripe API (tests/setup/stripe-fake.ts) that the Stripe provider reaches through
 * STRIPE_API_URL (`inject("stripe")`), and a fake OpenAI API (tests/setup/openai-fake.ts) for the
 * openai-compatible AI provider, scripted per API key (`inject("openai")`), and a promtool checker
 * (tests/setup/promtool.ts) that runs `promtool check metrics` on an exposition (`inject("promtool")`),
 * and an OTLP/HTTP receiver (tests/setup/otlp-receiver.ts) the Worker exports spans to (`inject("otlp")`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { bootstrapPlatform } from "../../tools/platform-bootstrap";
import { startServer } from "../../tools/libsql-server/server";
import { startMailCatcher } from "../../tools/mail-catcher/server";
import { startLocalUpstash } from "../../tools/upstash-adapter/index";
import { startOpenAiFake } from "./openai-fake";
import { startOtlpReceiver } from "./otlp-receiver";
import { startPromtoolChecker } from "./promtool";
import { startStripeFake } from "./stripe-fake";
import { startWebhookReceiver } from "./webhook-receiver";

export default async function setup(project: TestProject) {
  // First, so a missing redis-server fails the run (saying how to install it) before anything
  // else is running that would need stopping.
  const upstash = await startLocalUpstash();
  let stopLibsql: () => Promise<void>;
  try {
    stopLibsql = await startLibsql(project);
  } catch (err) {
    await upstash.close();
    throw err;
  }
  project.provide("upstash", { url: upstash.url, token: upstash.token });
  project.provide("oathtool", oathtoolCodes());
  // The webhook tests' receiver: a plain HTTP server outside the system (tests/setup/webhook-receiver.ts).
  const webhookReceiver = await startWebhookReceiver();
  project.provide("webhookReceiver", { url: webhookReceiver.url });
  // Mail leaves the Worker through the real Resend transport and lands here; tests read it back
  // by recipient (each test its own address), so parallel tests never see each other's mail.
  const mail = await startMailCatcher({ port: 0, token: randomBytes(24).toString("base64url") });
  project.provide("mail", { url: mail.url, token: mail.token });
  // The Stripe provider's tests: the official package talks to this fake instead of api.stripe.com.
  const stripe = await startStripeFake();
  project.provide("stripe", { url: stripe.url });
  // The openai-compatible provider's tests: each test scripts the fake through its own API key.
  const openai = await startOpenAiFake();
  project.provide("openai", { url: openai.url });
  // The metrics tests: Prometheus' promtool judges the exposition.
  const promtool = await startPromtoolChecker();
  project.provide("promtool", { url: promtool.url });
  // Traces: the Worker exports spans here (OTEL_EXPORTER_OTLP_ENDPOINT), decoded as a collector would.
  const otlp = await startOtlpReceiver();
  project.provide("otlp", { url: otlp.url });

  return async () => {
    await openai.close();
    await promtool.close();
    await otlp.close();
    await stripe.close();
    await mail.close();
    await webhookReceiver.close();
    await stopLibsql();
    // Stops the adapter and redis-server; a live child process would keep vitest from exiting.
    await upstash.close();
  };
}

/**
 * TOTP codes from Debian's oathtool, an implementation independent of otplib, for a fixed
 * secret at fixed times: the MFA tests check that Canopy accepts exactly these.
 */
function oathtoolCodes(): { secret: string; codes: { epoch: number; code: string }[] } {
  const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"; // base32, 160 bits
  const epochs = [59, 1111111109, 1234567890, 2000000000, Math.floor(Date.now() / 1000)];
  const codes = epochs.map((epoch) => {
    const at = new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const code = execFileSync("oathtool", ["--totp", "--base32", "--digits=6", `--now=${at}`, secret], {
      encoding: "utf8",
    }).trim();
    return { epoch, code };
  });
  return { secret, codes };
}

/** The local libSQL server with a migrated platform DB; resolves to its teardown. */
async function startLibsql(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = mkdtempSync(join(tmpdir(), "canopy-test-"));
  const secret = randomBytes(24).toString("base64url");
  const server = await startServer({ port: 0, dataDir, secret, streamIdleTimeoutMs: 5000 });
  const platform = await bootstrapPlatform(server.origin, secret);

  project.provide("libsql", {
    origin: server.origin,
    secret,
    platformUrl: platform.url,
    platformToken: platform.token,
  });
  project.provide("secrets", {
    adminToken: randomBytes(24).toString("base64url"),
    metricsToken: randomBytes(24).toString("base64url"),
    encryptionKey: randomBytes(32).toString("base64url"),
  });

  return async () => {
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
}
