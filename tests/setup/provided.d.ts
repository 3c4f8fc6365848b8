// What the global setup (tests/setup/global.ts) provides to tests through `inject`.
import "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    libsql: { origin: string; secret: string; platformUrl: string; platformToken: string };
    secrets: { adminToken: string; metricsToken: string; encryptionKey: string };
    /** The local Upstash REST adapter: UPSTASH_REDIS_REST_URL / _TOKEN for tests. */
    upstash: { url: string; token: string };
    /** A secret and oathtool's codes for it at fixed epochs (seconds). */
    oathtool: { secret: string; codes: { epoch: number; code: string }[] };
    /** The recording webhook receiver (tests/setup/webhook-receiver.ts): base URL, no trailing slash. */
    webhookReceiver: { url: string };
    /** The local mail catcher (tools/mail-catcher): MAIL_API_URL (no trailing slash) and MAIL_API_KEY. */
    mail: { url: string; token: string };
    /** The fake Stripe API (tests/setup/stripe-fake.ts): STRIPE_API_URL, no trailing slash; `GET /__requests` lists what it saw. */
    stripe: { url: string };
    /**
     * The fake OpenAI API (tests/setup/openai-fake.ts): its origin, no trailing slash (the provider's
     * `baseUrl` is `${url}/v1`); behaviour scripted by the API key, `GET /__calls/<key>` counts.
     */
    openai: { url: string };
    /** The promtool checker (tests/setup/promtool.ts): `POST /check/metrics` → `{ exitCode, output }`. */
    promtool: { url: string };
    /** The OTLP receiver (tests/setup/otlp-receiver.ts): OTEL_EXPORTER_OTLP_ENDPOINT; `GET /__spans/<traceId>`. */
    otlp: { url: string };
  }
}
