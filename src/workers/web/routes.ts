import { createRoute, z } from "@hono/zod-openapi";
import { AppError } from "../../lib/errors";
import { createRouter, problemResponses } from "../gateway/http";
import { APP_CSP } from "../gateway/middleware/security-headers";

/**
 * The web apps the Worker serves from its static assets (built by tools/build-web.ts into
 * web/dist): the console at /console/ and the chat example at /examples/chat/. Every file goes
 * through here (wrangler.toml: run_worker_first), so each answer carries the apps' strict CSP.
 */
export const webRoutes = createRouter();

const APPS = [
  { base: "/console", id: "Console", name: "The tenant and operator console", tag: "Web apps" },
  { base: "/examples/chat", id: "ChatExample", name: "The chat example app (examples/chat)", tag: "Web apps" },
] as const;

const FILE = z
  .string()
  .regex(/^[a-z0-9][a-z0-9.-]{0,63}$/, "a file of the app")
  .openapi({ example: "index.html" });

const FILE_CONTENT = {
  "text/html": { schema: { type: "string" as const } },
  "text/javascript": { schema: { type: "string" as const } },
  "text/css": { schema: { type: "string" as const } },
};

/** One file of the assets, with the apps' headers; a conditional GET may answer 304. */
async function serve(env: Env, path: string, ifNoneMatch: string | undefined): Promise<Response> {
  const headers = ifNoneMatch ? { "if-none-match": ifNoneMatch } : undefined;
  const res = await env.ASSETS.fetch(new Request(`https://assets.local${path}`, { headers }));
  if (res.status !== 200 && res.status !== 304) throw new AppError("route_not_found", "No such file of this app.");
  const out = new Response(res.body, res);
  out.headers.set("content-security-policy", APP_CSP);
  // Revalidated on every load (cheap with the ETag): a deploy shows at once.
  out.headers.set("cache-control", "no-cache");
  return out;
}

for (const app of APPS) {
  const id = app.id;
  // The page at both /console and /console/ (its files are named by absolute paths).
  for (const [path, suffix] of [
    [app.base, ""],
    [`${app.base}/`, "Slash"],
  ] as const)
    webRoutes.openapi(
      createRoute({
        method: "get",
        path,
        operationId: `get${id}Page${suffix}`,
        tags: [app.tag],
        security: [],
        summary: `${app.name} (its page; it signs in with the API's own tokens, no cookies)`,
        responses: { 200: { description: "The page", content: { "text/html": FILE_CONTENT["text/html"] } } },
      }),
      (c) => serve(c.env, `${app.base}/index.html`, c.req.header("if-none-match")),
    );
  webRoutes.openapi(
    createRoute({
      method: "get",
      path: `${app.base}/{file}`,
      operationId: `get${id}File`,
      tags: [app.tag],
      security: [],
      summary: `A file of ${app.name.toLowerCase()}`,
      request: { params: z.object({ file: FILE }) },
      responses: { 200: { description: "The file", content: FILE_CONTENT }, ...problemResponses("route_not_found") },
    }),
    (c) => serve(c.env, `${app.base}/${c.req.valid("param").file}`, c.req.header("if-none-match")),
  );
}
