import { exports } from "cloudflare:workers";

/**
 * Every problem a test receives must be one /openapi.json documents for that operation and status
 * (its `code` enum): `call()` checks each answer, so the whole suite keeps the document honest.
 * An answer of a path no operation matches (404 route_not_found, 405) is not checked.
 */
interface Op {
  method: string;
  template: string;
  pattern: RegExp;
  codes: Map<number, Set<string>>;
}

let operations: Op[] | undefined;

async function load(): Promise<Op[]> {
  const res = await exports.default.fetch(new Request("http://api.test/openapi.json"));
  const doc = await res.json<{ paths: Record<string, Record<string, { responses?: Record<string, unknown> }>> }>();
  const ops: Op[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    // Literal segments first: /v1/files/uploads/{id} is tried before /v1/files/{id}/content.
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+")}$`);
    for (const [method, op] of Object.entries(item)) {
      const codes = new Map<number, Set<string>>();
      for (const [status, r] of Object.entries(op.responses ?? {})) {
        const schema = (
          r as { content?: Record<string, { schema?: { allOf?: { properties?: { code?: { enum?: string[] } } }[] } }> }
        ).content?.["application/problem+json"]?.schema;
        const list = schema?.allOf?.flatMap((s) => s.properties?.code?.enum ?? []) ?? [];
        if (list.length) codes.set(Number(status), new Set(list));
      }
      ops.push({ method: method.toUpperCase(), template, pattern, codes });
    }
  }
  // More literal characters first, so a fixed segment wins over a parameter.
  return ops.sort((a, b) => b.template.replace(/\{[^}]+\}/g, "").length - a.template.replace(/\{[^}]+\}/g, "").length);
}

/** Throws when `res` is a problem its operation does not document (status and code). */
export async function assertDocumentedProblem(method: string, path: string, res: Response): Promise<void> {
  if (!res.headers.get("content-type")?.includes("application/problem+json")) return;
  operations ??= await load();
  const pathname = new URL(path, "http://api.test").pathname;
  const op = operations.find((o) => o.method === method.toUpperCase() && o.pattern.test(pathname));
  if (!op) return;
  const { code } = await res.clone().json<{ code: string }>();
  if (!op.codes.get(res.status)?.has(code)) {
    throw new Error(
      `${method} ${op.template} answered ${res.status} ${code}, which /openapi.json does not list for it (documented: ${JSON.stringify(Object.fromEntries([...op.codes].map(([s, c]) => [s, [...c]])))})`,
    );
  }
}
