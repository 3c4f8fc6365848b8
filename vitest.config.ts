import { readFile } from "node:fs/promises";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig, type Plugin } from "vitest/config";

/**
 * The `stripe` package ships source maps of sources it does not ship, and Vite warns once per
 * module (about 200 lines each run) when the Stripe tests load it. Loaded without its
 * `sourceMappingURL` comment, it is the same code with nothing to warn about.
 */
const stripeWithoutSourceMaps: Plugin = {
  name: "canopy:stripe-without-source-maps",
  enforce: "pre",
  async load(id) {
    if (!/[\\/]node_modules[\\/]stripe[\\/].*\.js$/.test(id)) return null;
    const code = await readFile(id, "utf8");
    return { code: code.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n"), map: null };
  },
};

/**
 * Three projects:
 * - worker: tests run inside workerd (Miniflare) against the real bindings from wrangler.toml
 *   (Durable Objects, Queues, R2) and the real local libSQL server started by the global setup.
 * - browser: the Worker under wrangler's test harness (workerd) with the local libSQL server,
 *   driven by headless Chromium (the console, the SDK in a page) and by Node clients.
 * - node: the local libSQL server itself, driven by the real @libsql/client from Node.
 */
export default defineConfig({
  test: {
    // Request logs of passing tests are noise; a failing test shows its output.
    silent: "passed-only",
    // Queue consumers, alarms and sockets of the shared workerd runtime keep working after a test
    // file's last test; a line they log as vitest closes that file's channel is rejected as
    // "Closing rpc while onUserConsoleLog was pending" and counted as an error although every test
    // passed. Only that lost log line is ignored: any other unhandled error still fails the run.
    onUnhandledError(error) {
      return !(error.name === "EnvironmentTeardownError" && /"onUserConsoleLog" was pending/.test(error.message));
    },
    projects: [
      {
        plugins: [
          stripeWithoutSourceMaps,
          cloudflareTest(async ({ inject }) => {
            const libsql = inject("libsql");
            const secrets = inject("secrets");
            const mail = inject("mail");
            const stripe = inject("stripe");
            const otlp = inject("otlp");
            return {
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  ADMIN_TOKEN: secrets.adminToken,
                  METRICS_TOKEN: secrets.metricsToken,
                  DB_ENCRYPTION_KEY: secrets.encryptionKey,
                  PLATFORM_DB_URL: libsql.platformUrl,
                  PLATFORM_DB_TOKEN: libsql.platformToken,
                  LIBSQL_ADMIN_URL: libsql.origin,
                  LIBSQL_ADMIN_TOKEN: libsql.secret,
                  DB_PROVISIONER: "local",
                  // Short enough that suspension tests see it, long enough to be exercised.
                  TENANT_CACHE_TTL_MS: "1000",
                  // Tests stand where Cloudflare's edge does: they set CF-Connecting-IP themselves.
                  CLIENT_IP_HEADER: "cf-connecting-ip",
                  // Mail goes through the real Resend transport to the local catcher (global setup).
                  MAIL_TRANSPORT: "resend",
                  MAIL_API_URL: mail.url,
                  MAIL_API_KEY: mail.token,
                  // The Stripe provider calls the fake Stripe API (global setup), never api.stripe.com.
                  STRIPE_API_URL: stripe.url,
                  // Spans go to the local OTLP receiver (global setup), every trace sampled.
                  OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
                  // The fuzz suite's knobs (npm run fuzz): process.env does not reach workerd.
                  // Unset, tests/worker/fuzz.test.ts runs a fixed seed and a bounded number of runs.
                  FUZZ_RUNS: process.env.FUZZ_RUNS ?? "",
                  FUZZ_SEED: process.env.FUZZ_SEED ?? "",
                },
              },
            };
          }),
        ],
        test: {
          name: "worker",
          include: ["tests/worker/**/*.test.ts"],
          globalSetup: ["tests/setup/global.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "browser",
          environment: "node",
          include: ["tests/browser/**/*.test.ts"],
          globalSetup: ["tests/browser/global.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["tests/node/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
