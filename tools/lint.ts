/**
 * `npm run lint`: the rules the type checker does not enforce.
 * - Imports flow one way: workers → durable, db → lib; nothing imports a service's folder but
 *   the gateway that mounts it.
 * - No `any`, no `process.env` in Worker code, no files past 300 lines (400 for Durable Objects'
 *   classes would already be a smell; split instead).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { root } from "./local-state";

const MAX_LINES = 300;
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
// Which layers each layer may import.
const allowed: Record<string, string[]> = {
  lib: ["lib"],
  db: ["db", "lib"],
  durable: ["durable", "db", "lib"],
  workers: ["workers", "durable", "db", "lib"],
  "index.ts": ["workers", "durable", "db", "lib"],
};

for (const file of walk(join(root, "src"))) {
  const rel = relative(root, file);
  if (rel.endsWith(".gen.ts")) continue;
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n").length;
  if (lines > MAX_LINES) problems.push(`${rel}: ${lines} lines (split files past ${MAX_LINES})`);
  if (/(:|as)\s*any\b|<any>/.test(text)) problems.push(`${rel}: uses 'any'`);
  if (/process\.env/.test(text)) problems.push(`${rel}: uses process.env (bindings come from Env)`);
  const from = layer(file);
  const serviceOf = (p: string) => /src\/workers\/([^/]+)\//.exec(p)?.[1];
  for (const m of text.matchAll(/from\s+"(\.[^"]+)"/g)) {
    const target = join(file, "..", m[1]!);
    const to = layer(target + ".ts");
    if (!(allowed[from] ?? []).includes(to)) problems.push(`${rel}: ${from} must not import ${to} (${m[1]})`);
    const [a, b] = [serviceOf(file), serviceOf(target + ".ts")];
    if (b && a !== b && a !== "gateway" && rel !== "src/index.ts") problems.push(`${rel}: imports another service's folder (${m[1]})`);
  }
}

if (problems.length) {
  console.error(problems.join("\n"));
  process.exit(1);
}
console.log("lint: ok");
