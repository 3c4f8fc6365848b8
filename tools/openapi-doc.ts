/**
 * `npm run docs:openapi`: writes docs/openapi.json, the Worker's OpenAPI document rendered in Node
 * from the same app the Worker serves (the routes' zod schemas need no bindings). Client
 * generators (the SDK) read that file; `npm run lint` fails when it is stale and runs Redocly's
 * recommended rules on it (redocly.yaml).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

// The app is type-checked by tsconfig.json with the Worker's types; this Node project imports it
// by a path it does not follow, so it does not type-check src/ against Node's types.
const APP_MODULE: string = "../src/workers/gateway/app.ts";
type App = { request(url: string): Response | Promise<Response> };

export const OPENAPI_DOC = join(import.meta.dirname, "..", "docs", "openapi.json");

/** GET /openapi.json of the app, pretty-printed, for a fixed server URL (the document names it). */
export async function renderOpenApi(): Promise<string> {
  const { createApp } = (await import(APP_MODULE)) as { createApp: () => App };
  const res = await createApp().request("https://api.canopy.example/openapi.json");
  if (res.status !== 200) throw new Error(`/openapi.json answered ${res.status}: ${await res.text()}`);
  return `${JSON.stringify(await res.json(), null, 2)}\n`;
}

/** True when docs/openapi.json is what the app renders. */
export async function openApiDocIsCurrent(): Promise<boolean> {
  return readFileSync(OPENAPI_DOC, "utf8") === (await renderOpenApi());
}

if (import.meta.filename === process.argv[1]) {
  writeFileSync(OPENAPI_DOC, await renderOpenApi());
  console.log(`wrote ${OPENAPI_DOC}`);
}
