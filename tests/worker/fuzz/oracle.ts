import type { Plan } from "./build";

/** What the suite holds every answer to. */
export type FailureKind =
  | "5xx"
  | "not problem+json"
  | "2xx for invalid or unauthorised input"
  | "unexpected status"
  | "undocumented problem"
  | "threw";

/** An answer as the oracle sees it. */
export interface Answer {
  status: number;
  contentType: string;
  text: string;
}

/**
 * The properties of every answer: no 5xx (nor 1xx/3xx: nothing here redirects or upgrades over
 * plain HTTP); every error is problem+json with a string `code` and a `status` equal to the
 * HTTP status; no 2xx when the plan holds a reason it must not succeed.
 */
export function judge(plan: Plan, a: Answer): { kind: FailureKind; why: string }[] {
  const out: { kind: FailureKind; why: string }[] = [];
  if (a.status >= 500) out.push({ kind: "5xx", why: `status ${a.status}` });
  else if (a.status < 200 || (a.status >= 300 && a.status < 400))
    out.push({ kind: "unexpected status", why: `status ${a.status}` });
  if (a.status >= 400) {
    const bad = problemShape(a);
    if (bad) out.push({ kind: "not problem+json", why: bad });
  }
  if (a.status >= 200 && a.status < 300 && plan.reasons.length > 0) {
    out.push({ kind: "2xx for invalid or unauthorised input", why: plan.reasons.join("; ") });
  }
  return out;
}

function problemShape(a: Answer): string | null {
  if (!a.contentType.toLowerCase().includes("application/problem+json")) return `content-type '${a.contentType}'`;
  let body: unknown;
  try {
    body = JSON.parse(a.text);
  } catch {
    return "body is not JSON";
  }
  if (typeof body !== "object" || body === null) return "body is not an object";
  const { code, status } = body as { code?: unknown; status?: unknown };
  if (typeof code !== "string") return "no string `code`";
  if (status !== a.status) return `\`status\` ${JSON.stringify(status)} is not the HTTP status ${a.status}`;
  return null;
}

/** The problem `code` of an answer, if it has one. */
export function codeOf(a: Answer): string | undefined {
  try {
    const code = (JSON.parse(a.text) as { code?: unknown }).code;
    return typeof code === "string" ? code : undefined;
  } catch {
    return undefined;
  }
}
