/**
 * `npm run dev`: the local libSQL server, the platform database, the local mail catcher,
 * `wrangler dev` and a ready `demo` tenant, with one Ctrl-C to stop everything. State lives in
 * .canopy/ (npm run reset); caught mail lives in memory until the next start.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { writeVars } from "./dotenv";
import { startServer } from "./libsql-server/server";
import { startMailCatcher, type MailCatcher } from "./mail-catcher/server";
import { devVarsPath, libsqlDir, localSecrets, root, wranglerDir } from "./local-state";
import { bootstrapPlatform } from "./platform-bootstrap";
import { answersOk, StopWaiting, waitUntil } from "./wait";

const port = Number(process.env.PORT ?? 8787);
const libsqlPort = Number(process.env.LIBSQL_PORT ?? 8081);
const mailPort = Number(process.env.MAIL_PORT ?? 8025);
const api = `http://localhost:${port}`;

/** Waits until `url` answers 2xx; fails at once if wrangler exits, and after `ms` with the last error. */
async function waitForWrangler(url: string, ms: number, child: ChildProcess): Promise<void> {
  const ok = answersOk(url);
  await waitUntil(
    `wrangler dev at ${url}`,
    (signal) => {
      if (child.exitCode !== null)
        throw new StopWaiting(new Error(`wrangler dev exited with code ${child.exitCode} before ${url} answered`));
      return ok(signal);
    },
    // The first start bundles the Worker and starts workerd: minutes on a slow machine.
    { attemptMs: 5_000, deadlineMs: ms, intervalMs: 500 },
  );
}

async function ensureDemoTenant(adminToken: string): Promise<string> {
  const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };
  const existing = await fetch(`${api}/admin/v1/tenants/demo`, { headers });
  if (existing.ok) return "exists";
  const res = await fetch(`${api}/admin/v1/tenants`, {
    method: "POST",
    headers: { ...headers, "idempotency-key": "npm-run-dev-demo-tenant" },
    body: JSON.stringify({ slug: "demo", name: "Demo", config: { allowedOrigins: ["*"], features: { chat: true } } }),
  });
  if (!res.ok) throw new Error(`creating the demo tenant failed: HTTP ${res.status} ${await res.text()}`);
  return "created";
}

/**
 * The mail catcher the Worker's Resend transport delivers to; it prints each message's links
 * here. A fresh token each start: the inbox does not outlive the process anyway.
 */
async function startMail(): Promise<MailCatcher> {
  try {
    return await startMailCatcher({ port: mailPort, token: randomBytes(24).toString("base64url"), log: true });
  } catch (err) {
    const taken = (err as { code?: unknown }).code === "EADDRINUSE";
    throw new Error(
      taken
        ? `The mail catcher's port ${mailPort} is taken (another npm run dev?); stop that or set MAIL_PORT.`
        : `The mail catcher did not start on port ${mailPort}: ${err instanceof Error ? err.message : err}`,
    );
  }
}

async function main(): Promise<void> {
  const secrets = localSecrets();
  mkdirSync(libsqlDir, { recursive: true });
  // First, so a taken port fails the start before anything else is running.
  const mail = await startMail();
  const server = await startServer({ port: libsqlPort, dataDir: libsqlDir, secret: secrets.libsqlSecret });
  const platform = await bootstrapPlatform(server.origin, secrets.libsqlSecret);
  writeVars(
    devVarsPath,
    {
      ADMIN_TOKEN: secrets.adminToken,
      PLATFORM_DB_URL: platform.url,
      PLATFORM_DB_TOKEN: platform.token,
      DB_ENCRYPTION_KEY: secrets.encryptionKey,
      LIBSQL_ADMIN_URL: server.origin,
      LIBSQL_ADMIN_TOKEN: secrets.libsqlSecret,
      DB_PROVISIONER: "local",
      // The real Resend transport, pointed at the local catcher (docs/mail.md).
      MAIL_TRANSPORT: "resend",
      MAIL_API_URL: mail.url,
      MAIL_API_KEY: mail.token,
      // Emailed links open this Worker's pages on the port it really listens on.
      TENANT_ORIGIN: `http://{slug}.localhost:${port}`,
    },
    "Written by `npm run dev` (git-ignored). Secrets persist in .canopy/secrets.json; `npm run reset` wipes both.",
  );

  // Own process group (detached), so stopping it also stops the workerd it spawns.
  const wrangler = spawn(
    "wrangler",
    [
      "dev",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--persist-to",
      wranglerDir,
      "--show-interactive-dev-session=false",
      "--test-scheduled",
    ],
    { cwd: root, stdio: ["ignore", "inherit", "inherit"], detached: true, env: { ...process.env, FORCE_COLOR: "1" } },
  );
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (wrangler.pid && wrangler.exitCode === null) {
      try {
        process.kill(-wrangler.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    await server.close();
    await mail.close();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  wrangler.on("exit", (code) => void stop(code ?? 1));

  await waitForWrangler(`${api}/readyz`, 180_000, wrangler);
  // wrangler dev does not fire cron triggers by itself: fire the minute cron (outbox sweeper,
  // webhook retries, housekeeping) as production would.
  const cron = setInterval(() => void fetch(`${api}/__scheduled?cron=*+*+*+*+*`).catch(() => undefined), 60_000);
  cron.unref();
  const demo = await ensureDemoTenant(secrets.adminToken);
  console.log(`
  Canopy is running.
    API            ${api}   (reference: ${api}/docs, OpenAPI: ${api}/openapi.json)
    libSQL server  ${server.origin}   (data in .canopy/libsql; platform DB ${platform.url})
    demo tenant    ${demo}
    admin token    ${secrets.adminToken}   (also in .dev.vars as ADMIN_TOKEN)
    mail inbox     ${api}/admin/v1/dev/mail   (admin token; every mail is also printed here with its links)
    mail catcher   ${mail.url}   (the Worker's Resend transport delivers here; MAIL_PORT moves it)

  Try:
    curl -H 'X-Tenant: demo' ${api}/v1/tenant
    curl -H 'Authorization: Bearer ${secrets.adminToken}' ${api}/admin/v1/tenants
    curl -X POST -H 'Authorization: Bearer ${secrets.adminToken}' -H 'content-type: application/json' \\
         -d '{"slug":"acme","name":"Acme"}' ${api}/admin/v1/tenants
    curl -H 'Authorization: Bearer ${secrets.adminToken}' '${api}/admin/v1/dev/mail?to=you@example.com'

  Ctrl-C stops everything; state persists across restarts (npm run reset wipes it).
`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
