/** Reads and writes .dev.vars-style files (KEY=value lines, # comments). */
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export function readVars(path: string): Record<string, string> {
  if (!existsSync(path)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const m = /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out[m[1]!] = m[2]!.replace(/^"(.*)"$/, "$1");
  }
  return out;
}

export function writeVars(path: string, vars: Record<string, string>, header: string): void {
  const lines = Object.entries(vars).map(([k, v]) => `${k}=${v}`);
  writeFileSync(path, `# ${header}\n${lines.join("\n")}\n`, { mode: 0o600 });
}
