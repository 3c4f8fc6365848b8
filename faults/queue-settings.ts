/**
 * The queues of wrangler.toml, as the harness's queue broker needs them: which producer binding
 * sends to which queue, and each consumer's batch size, retries and dead-letter queue. Read from
 * the file so the harness follows the deployment's settings instead of copying them.
 */
import { readFileSync } from "node:fs";

export interface QueueSettings {
  /** Queue name (`canopy-notification`), the name the consumer's `queue()` handler sees. */
  name: string;
  /** The producer binding that sends to it (`NOTIFICATION_QUEUE`). */
  binding: string;
  maxBatchSize: number;
  maxRetries: number;
  /** Consumer runs of this queue at once (`max_concurrency`, else DEFAULT_CONCURRENCY). */
  maxConcurrency: number;
  deadLetterQueue: string | null;
}

/** Cloudflare autoscales consumers when `max_concurrency` is unset; the harness allows this many. */
export const DEFAULT_CONCURRENCY = 4;

/** `[[section]]` blocks of a TOML file as flat key → raw value maps (enough for wrangler's queue tables). */
function blocks(toml: string, section: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let current: Map<string, string> | null = null;
  for (const raw of toml.split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (line.startsWith("[")) {
      current = line === `[[${section}]]` ? new Map() : null;
      if (current) out.push(current);
      continue;
    }
    const kv = /^([A-Za-z_]+)\s*=\s*(.+)$/.exec(line);
    if (current && kv) current.set(kv[1]!, kv[2]!.replace(/^"(.*)"$/, "$1"));
  }
  return out;
}

/** Every producer's queue with its consumer settings (wrangler's defaults where a consumer is silent). */
export function queueSettings(wranglerToml: string): QueueSettings[] {
  const toml = readFileSync(wranglerToml, "utf8");
  const consumers = new Map(blocks(toml, "queues.consumers").map((c) => [c.get("queue") ?? "", c]));
  return blocks(toml, "queues.producers").map((p) => {
    const name = p.get("queue");
    const binding = p.get("binding");
    if (!name || !binding) throw new Error(`${wranglerToml}: a queue producer without binding or queue`);
    const c = consumers.get(name);
    return {
      name,
      binding,
      maxBatchSize: Number(c?.get("max_batch_size") ?? 10),
      maxRetries: Number(c?.get("max_retries") ?? 3),
      maxConcurrency: Number(c?.get("max_concurrency") ?? DEFAULT_CONCURRENCY),
      deadLetterQueue: c?.get("dead_letter_queue") ?? null,
    };
  });
}
