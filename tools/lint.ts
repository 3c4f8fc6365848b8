/**
 * `npm run lint`: the rules the type checker does not enforce.
 * - Imports flow one way: workers → durable, db → lib; nothing imports a service's folder but
 *   the list of services (gateway/services.ts); services share code through the named folders
 *   (SHARED_FOLDERS), and src/workers/ holds no loose file.
 * - SQL lives under src/db/: no raw SQL in src/workers/.
 * - No import circle in src/, type-only imports included.
 * - docs/errors.md is what the error registry generates; docs/openapi.json what the routes render
 *   (package.json's lint script then runs Redocly on it).
 * - No `any`, no `process.env` in Worker code, no files past 300 lines (500 under src/durable/,
 *   as STYLE.md allows Durable Objects).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { existsSync } from "node:fs";
import { errorsDocIsCurrent } from "./errors-doc";
import { importCycles } from "./import-cycles";
import { openApiDocIsCurrent } from "./openapi-doc";
import { sdkSourcesAreCurrent } from "./sdk-gen";
import { root } from "./local-state";

// STYLE.md: split a file past about 300 lines, a Durable Object's past about 500.
const MAX_LINES = 300;
const MAX_DURABLE_LINES = 500;
const problems: string[] = [];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith(".ts") ? [p] : [];
  });
}

const layer = (file: string): string => {
  const rel = relative(join(root, "src"), file);
  return rel.split("/")[0] === "workers" ? "workers" : (rel.split("/")[0] ?? "");
};
/**
 * The folders under src/workers/ that hold shared code, which any service may import; every other
 * folder is a service, which no other service imports. Only the list of services imports their
 * modules; the HTTP app, the queue dispatcher and the cron are built from it.
 */
const SHARED_FOLDERS = new Set(["gateway", "tenancy", "events", "file-links", "mail", "ai-core", "erasure"]);
const ASSEMBLY = new Set(["src/workers/gateway/services.ts"]);

// Which layers each layer may import.
const allowed: Record<string, string[]> = {
  lib: ["lib"],
  db: ["db", "lib"],
  durable: ["durable", "db", "lib"],
  workers: ["workers", "durable", "db", "lib"],
  "index.ts": ["workers", "durable", "db", "lib"],
};

/** The file a relative import names (`./x` is `./x.ts` or `./x/index.ts`). */
const resolveImport = (target: string) => (existsSync(`${target}.ts`) ? `${target}.ts` : join(target, "index.ts"));
const importsOf = new Map<string, Set<string>>();

for (const file of walk(join(root, "src"))) {
  const rel = relative(root, file);
  if (rel.endsWith(".gen.ts")) continue;
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n").length;
  const max = rel.startsWith("src/durable/") ? MAX_DURABLE_LINES : MAX_LINES;
  if (lines > max) problems.push(`${rel}: ${lines} lines (split files past ${max})`);
  if (/(:|as)\s*any\b|<any>/.test(text)) problems.push(`${rel}: uses 'any'`);
  // `execute` of a database handle (a resilience policy's `execute` is not SQL).
  if (rel.startsWith("src/workers/") && /\bsql`|\b(db|tx|client|\$client)\.execute\(/.test(text))
    problems.push(`${rel}: SQL in a service; queries live under src/db/`);
  if (/process\.env/.test(text)) problems.push(`${rel}: uses process.env (bindings come from Env)`);
  if (/^src\/workers\/[^/]+\.ts$/.test(rel))
    problems.push(`${rel}: a loose file at src/workers/ root; shared code lives in ${[...SHARED_FOLDERS].join(", ")}`);
  const from = layer(file);
  const serviceOf = (p: string) => /src\/workers\/([^/]+)\//.exec(p)?.[1];
  const edges = new Set<string>();
  importsOf.set(relative(root, file), edges);
  for (const m of text.matchAll(/(?:from\s+|import\()"(\.[^"]+)"/g)) {
    const target = join(file, "..", m[1]!);
    edges.add(relative(root, resolveImport(target)));
    const to = layer(target + ".ts");
    if (!(allowed[from] ?? []).includes(to)) problems.push(`${rel}: ${from} must not import ${to} (${m[1]})`);
    const [a, b] = [serviceOf(file), serviceOf(target + ".ts")];
    if (b && a !== b && !SHARED_FOLDERS.has(b) && !ASSEMBLY.has(rel) && rel !== "src/index.ts")
      problems.push(
        `${rel}: imports another service's folder (${m[1]}); services share code through ${[...SHARED_FOLDERS].join(", ")}`,
      );
  }
}

for (const cycle of importCycles(importsOf)) problems.push(`import circle: ${cycle.join(" ↔ ")}`);

if (!(await openApiDocIsCurrent()))
  problems.push("docs/openapi.json: stale; run npm run docs:openapi (rendered from the routes)");
if (!errorsDocIsCurrent())
  problems.push("docs/errors.md: stale; run npm run docs:errors (it is generated from src/lib/error-codes.ts)");
if (!(await sdkSourcesAreCurrent()))
  problems.push(
    "sdk/src/*.gen.ts: stale; run npm run sdk:gen (generated from docs/openapi.json and the error registry)",
  );

if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("lint: ok");
