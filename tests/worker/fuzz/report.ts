import { truncate, type Plan } from "./build";
import { codeOf, type Answer, type FailureKind } from "./oracle";

/** One failing case, with everything needed to read and replay it. */
export interface Failure {
  kind: FailureKind;
  why: string;
  op: string;
  plan: Plan;
  answer: Answer;
  /** Index of the case among the operation's cases (same seed, same index). */
  index: number;
}

/** A 2xx to hostile input the server may legitimately accept: reported, not failed. */
export interface Observation {
  op: string;
  soft: string;
  status: number;
  label: string;
}

function bodyPreview(body: Plan["body"]): string {
  if (body === undefined) return "(none)";
  if (body instanceof FormData) {
    const parts: string[] = [];
    body.forEach((v, k) =>
      parts.push(`${k}=${typeof v === "string" ? JSON.stringify(truncate(v, 60)) : `<file ${v.size} bytes>`}`),
    );
    return `multipart form: ${parts.join(", ")}`;
  }
  const text = new TextDecoder().decode(body);
  return `${truncate(JSON.stringify(text), 300)} (${body.length} bytes)`;
}

function headersPreview(plan: Plan): string {
  const shown: Record<string, string> = {};
  // Credentials are named, not shown: they include the platform admin token and near-misses of it.
  for (const [k, v] of Object.entries(plan.headers))
    shown[k] = k === "authorization" ? `<${plan.identity} credential>` : truncate(v, 80);
  return JSON.stringify(shown);
}

/** A failure, as the test's error message shows it. */
export function describeFailure(f: Failure, count: number, replay: string): string {
  return [
    `[${f.kind}] ${f.op} as ${f.plan.identity}: ${f.plan.label}${count > 1 ? ` (×${count} similar)` : ""}`,
    `  why it fails: ${f.why}`,
    `  request: ${f.plan.method} ${truncate(f.plan.url, 300)}`,
    `    headers: ${headersPreview(f.plan)}`,
    `    body: ${bodyPreview(f.plan.body)}`,
    `  response: ${f.answer.status} ${f.answer.contentType || "(no content-type)"} ${truncate(f.answer.text, 400)}`,
    `  replay: ${replay} (case #${f.index})`,
  ].join("\n");
}

/** Failures grouped by kind, identity, mutation, field and answer, each group with its first case. */
export function grouped(failures: Failure[]): { first: Failure; count: number }[] {
  const groups = new Map<string, { first: Failure; count: number }>();
  for (const f of failures) {
    // The mutation and the field it struck (not the value): "query-nul tenantId", "nul name".
    const [mutation, field = ""] = f.plan.label.split(" ");
    const key = [f.kind, f.plan.identity, mutation, field.split("=")[0], f.answer.status, codeOf(f.answer)].join("|");
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { first: f, count: 1 });
  }
  return [...groups.values()];
}
