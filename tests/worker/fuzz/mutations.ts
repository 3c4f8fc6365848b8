import fc from "fast-check";
import {
  CONTROL,
  HEADER_GARBAGE,
  INVALID_UTF8,
  PATH_GARBAGE,
  QUERY_GARBAGE,
  RAW_QUERY,
  TENANT_GARBAGE,
  WRONG_CONTENT_TYPES,
  WRONG_TYPES,
} from "./hostile";
import { declaresForm, declaresJson, needsTenant, type Operation } from "./openapi";

/** One mutation of a baseline request. Indexes are free-running; the builder takes them modulo. */
export type Mutation =
  | { kind: "baseline" }
  | { kind: "extra-field"; slot: number; key: string; value: unknown }
  | { kind: "missing-required"; slot: number }
  | { kind: "wrong-type"; slot: number; value: number }
  | { kind: "huge-string"; slot: number }
  | { kind: "huge-array"; slot: number }
  | { kind: "deep-json"; slot: number; shape: "array" | "object" }
  | { kind: "nul"; slot: number; at: number }
  | { kind: "control"; slot: number; char: number }
  | { kind: "lone-surrogate"; slot: number; high: boolean }
  | { kind: "invalid-utf8"; slot: number; seq: number }
  | { kind: "foreign-reference"; slot: number; pick: number; unknown: boolean; salt: number }
  | { kind: "malformed-json"; variant: number; salt: number }
  | { kind: "body-too-large" }
  | { kind: "content-type"; variant: number }
  | { kind: "no-body" }
  | { kind: "unexpected-body"; value: unknown }
  | { kind: "malformed-form"; salt: number }
  | { kind: "path-garbage"; param: number; variant: number }
  | { kind: "path-unknown-id"; param: number; salt: number }
  | { kind: "path-foreign-id"; param: number; pick: number }
  | { kind: "path-not-mine"; param: number; pick: number }
  | { kind: "query-garbage"; param: number; variant: number }
  | { kind: "query-nul"; param: number; at: number }
  | { kind: "query-missing-required"; param: number }
  | { kind: "query-forged-cursor"; variant: number; salt: number }
  | { kind: "query-raw"; variant: number }
  | { kind: "query-extra"; key: string; value: string }
  | { kind: "tenant-garbage"; variant: number }
  | { kind: "header-garbage"; param: number; variant: number };

/** A mutation class with its generator and how often random cases draw it. */
export interface MutationClass {
  kind: Mutation["kind"];
  arbitrary: fc.Arbitrary<Mutation>;
  weight: number;
}

const n = fc.nat({ max: 1_000_000 });
const salt = fc.integer();

/**
 * The mutation classes that apply to an operation (body classes only with a body, cursor
 * forgery only with a cursor, …), weighted towards the classes most likely to break it.
 */
export function mutationClasses(op: Operation): MutationClass[] {
  const out: MutationClass[] = [];
  const add = <K extends Mutation["kind"]>(
    weight: number,
    kind: K,
    arbitrary: fc.Arbitrary<Extract<Mutation, { kind: K }>>,
  ) => out.push({ kind, arbitrary, weight });
  const paramsIn = (where: string) => op.parameters.filter((p) => p.in === where);
  const slot = n;

  add(4, "baseline", fc.constant({ kind: "baseline" }));
  if (needsTenant(op))
    add(
      1,
      "tenant-garbage",
      fc.record({ kind: fc.constant("tenant-garbage"), variant: fc.nat(TENANT_GARBAGE.length * 10) }),
    );
  add(1, "query-raw", fc.record({ kind: fc.constant("query-raw"), variant: fc.nat(RAW_QUERY.length * 10) }));
  add(
    1,
    "query-extra",
    fc.record({
      kind: fc.constant("query-extra"),
      key: fc.constantFrom("__proto__", "admin", "tenant", "x", "limit[]"),
      value: fc.string({ maxLength: 8 }),
    }),
  );

  if (paramsIn("path").length) {
    add(
      3,
      "path-garbage",
      fc.record({ kind: fc.constant("path-garbage"), param: n, variant: fc.nat(PATH_GARBAGE.length * 10) }),
    );
    add(2, "path-unknown-id", fc.record({ kind: fc.constant("path-unknown-id"), param: n, salt }));
    add(2, "path-foreign-id", fc.record({ kind: fc.constant("path-foreign-id"), param: n, pick: n }));
    add(2, "path-not-mine", fc.record({ kind: fc.constant("path-not-mine"), param: n, pick: n }));
  }
  if (paramsIn("query").length) {
    add(
      2,
      "query-garbage",
      fc.record({ kind: fc.constant("query-garbage"), param: n, variant: fc.nat(QUERY_GARBAGE.length * 10) }),
    );
    add(2, "query-nul", fc.record({ kind: fc.constant("query-nul"), param: n, at: n }));
    if (paramsIn("query").some((p) => p.required))
      add(1, "query-missing-required", fc.record({ kind: fc.constant("query-missing-required"), param: n }));
    if (paramsIn("query").some((p) => p.name === "cursor"))
      add(3, "query-forged-cursor", fc.record({ kind: fc.constant("query-forged-cursor"), variant: n, salt }));
  }
  if (paramsIn("header").length)
    add(
      1,
      "header-garbage",
      fc.record({ kind: fc.constant("header-garbage"), param: n, variant: fc.nat(HEADER_GARBAGE.length * 10) }),
    );

  if (op.body && declaresJson(op)) {
    add(
      2,
      "extra-field",
      fc.record({
        kind: fc.constant("extra-field"),
        slot,
        key: fc.constantFrom("__proto__", "constructor", "isAdmin", "role", "tenantId", "ownerId", "zz"),
        value: fc.jsonValue({ maxDepth: 1 }),
      }),
    );
    add(3, "wrong-type", fc.record({ kind: fc.constant("wrong-type"), slot, value: fc.nat(WRONG_TYPES.length * 10) }));
    add(1, "huge-string", fc.record({ kind: fc.constant("huge-string"), slot }));
    add(1, "huge-array", fc.record({ kind: fc.constant("huge-array"), slot }));
    add(
      2,
      "deep-json",
      fc.record({ kind: fc.constant("deep-json"), slot, shape: fc.constantFrom("array" as const, "object" as const) }),
    );
    add(1, "control", fc.record({ kind: fc.constant("control"), slot, char: fc.nat(CONTROL.length * 10) }));
    add(1, "lone-surrogate", fc.record({ kind: fc.constant("lone-surrogate"), slot, high: fc.boolean() }));
    add(
      2,
      "invalid-utf8",
      fc.record({ kind: fc.constant("invalid-utf8"), slot, seq: fc.nat(INVALID_UTF8.length * 10) }),
    );
    add(
      2,
      "foreign-reference",
      fc.record({ kind: fc.constant("foreign-reference"), slot, pick: n, unknown: fc.boolean(), salt }),
    );
    add(2, "malformed-json", fc.record({ kind: fc.constant("malformed-json"), variant: n, salt }));
    add(1, "body-too-large", fc.constant({ kind: "body-too-large" }));
  }
  if (op.body && (declaresJson(op) || declaresForm(op))) {
    add(2, "missing-required", fc.record({ kind: fc.constant("missing-required"), slot }));
    add(2, "nul", fc.record({ kind: fc.constant("nul"), slot, at: n }));
  }
  if (op.body) {
    add(
      1,
      "content-type",
      fc.record({ kind: fc.constant("content-type"), variant: fc.nat(WRONG_CONTENT_TYPES.length * 10) }),
    );
    add(1, "no-body", fc.constant({ kind: "no-body" }));
    if (declaresForm(op)) add(2, "malformed-form", fc.record({ kind: fc.constant("malformed-form"), salt }));
  } else if (op.method !== "GET" && op.method !== "HEAD") {
    add(
      1,
      "unexpected-body",
      fc.record({ kind: fc.constant("unexpected-body"), value: fc.jsonValue({ maxDepth: 2 }) }),
    );
  }
  return out;
}
