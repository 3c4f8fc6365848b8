/** The machine facts every benchmark report starts with. */
import { execFileSync } from "node:child_process";
import { availableParallelism, cpus } from "node:os";
import { join } from "node:path";
import { firstLine } from "./processes";
import type { Machine } from "./report";

/** `load`/`loadAfter`: load averages before the first round and after the last. */
export function machine(root: string, load: string, loadAfter: string): Machine {
  let commit = "unknown";
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
    // What is measured: the Worker (src/) and the local libSQL server (tools/).
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src", "tools"], {
      cwd: root,
      encoding: "utf8",
    }).trim();
    if (dirty) commit += " + uncommitted changes in src/ or tools/";
  } catch {
    // not a git checkout
  }
  return {
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? "unknown CPU",
    node: process.version,
    workerd: firstLine(join(root, "node_modules/.bin/workerd"), ["--version"]),
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    commit,
    load,
    loadAfter,
  };
}
