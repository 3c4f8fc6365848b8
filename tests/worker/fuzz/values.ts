import fc from "fast-check";
import { typesOf, type JsonSchema, type JsonType, type Resolve } from "./openapi";
import { patternArb } from "./patterns";
import { isReferenceField, kindOf, type Kind } from "./pools";

/** What value generation needs besides the schema. */
export interface ValueContext {
  resolve: Resolve;
  /** Real ids of this tenant for a reference field of this kind (any kind when undefined). */
  ids(kind: Kind | undefined): fc.Arbitrary<string>;
  /** Where webhook URLs may point: the recording receiver of the global setup. */
  receiverUrl: string;
}

const DATE = /^\^\\d\{4\}-\\d\{2\}-\\d\{2\}\$$/;
const day = fc
  .date({ min: new Date("2024-01-01"), max: new Date("2027-12-31"), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));

/**
 * A valid-looking value for a schema: within its types, enums, lengths, ranges and required
 * fields, ids drawn from the fixtures, so that a baseline request can succeed. Mutations start
 * from these.
 */
export function valueArb(schema: JsonSchema, ctx: ValueContext, name = "", depth = 0): fc.Arbitrary<unknown> {
  const s = ctx.resolve(schema);
  if (depth > 6) return fc.constant(null);
  if (s.enum && s.enum.length > 0) return fc.constantFrom(...s.enum);
  if (s.const !== undefined) return fc.constant(s.const);
  const branches = s.oneOf ?? s.anyOf;
  if (branches && branches.length > 0) return fc.oneof(...branches.map((b) => valueArb(b, ctx, name, depth + 1)));
  if (s.allOf && s.allOf.length > 0) return valueArb(merged(s.allOf.map(ctx.resolve)), ctx, name, depth + 1);
  const types = typesOf(s);
  if (!types) return anyJson();
  const concrete = types.filter((t) => t !== "null");
  const arbs = concrete.map((t) => ofType(t, s, ctx, name, depth));
  if (types.includes("null"))
    return arbs.length
      ? fc.oneof({ arbitrary: fc.oneof(...arbs), weight: 4 }, { arbitrary: fc.constant(null), weight: 1 })
      : fc.constant(null);
  return arbs.length ? fc.oneof(...arbs) : fc.constant(null);
}

/**
 * A value for `{}` (zod `unknown`, e.g. a message body): mostly `{ text }`, which fits a text
 * and a custom message alike, else small JSON.
 */
function anyJson(): fc.Arbitrary<unknown> {
  return fc.oneof(
    { arbitrary: fc.record({ text: fc.stringMatching(/^[a-z][a-z0-9 ]{0,19}$/) }), weight: 3 },
    { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
  );
}

function ofType(t: JsonType, s: JsonSchema, ctx: ValueContext, name: string, depth: number): fc.Arbitrary<unknown> {
  switch (t) {
    case "string":
      return stringArb(s, ctx, name);
    case "integer": {
      const [lo, hi] = range(s);
      return fc.integer({ min: Math.ceil(lo), max: Math.floor(hi) });
    }
    case "number": {
      const [lo, hi] = range(s);
      return fc.double({ min: lo, max: hi, noNaN: true, noDefaultInfinity: true });
    }
    case "boolean":
      return fc.boolean();
    case "array": {
      const item = s.items ? valueArb(s.items, ctx, singular(name), depth + 1) : anyJson();
      const minLength = s.minItems ?? 0;
      return fc.array(item, { minLength, maxLength: Math.max(minLength, Math.min(s.maxItems ?? 3, 3)) });
    }
    case "object":
      return objectArb(s, ctx, depth);
    default:
      return fc.constant(null);
  }
}

function objectArb(s: JsonSchema, ctx: ValueContext, depth: number): fc.Arbitrary<unknown> {
  const props = s.properties ?? {};
  const keys = Object.keys(props);
  if (keys.length === 0) {
    if (s.additionalProperties === false) return fc.constant({});
    const value =
      typeof s.additionalProperties === "object" ? valueArb(s.additionalProperties, ctx, "", depth + 1) : anyJson();
    return fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), value, { maxKeys: 2 });
  }
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const k of keys) model[k] = valueArb(props[k]!, ctx, k, depth + 1);
  return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => keys.includes(k)) });
}

function stringArb(s: JsonSchema, ctx: ValueContext, name: string): fc.Arbitrary<string> {
  if (isReferenceField(name)) return ctx.ids(kindOf("", name));
  if (name === "url" || s.format === "uri" || s.format === "url")
    return fc.constantFrom(`${ctx.receiverUrl}/hooks/fuzz`, "https://example.com/canopy");
  if (/password/i.test(name)) return fc.stringMatching(/^[A-Za-z0-9]{10,20}$/).map((p) => `Fz-${p}-7q!`);
  if (s.format === "email") return fc.stringMatching(/^[a-z0-9]{4,12}$/).map((u) => `${u}@example.test`);
  if (s.format === "date" || (s.pattern && DATE.test(s.pattern))) return day;
  if (s.format === "date-time")
    return fc
      .date({ noInvalidDate: true, min: new Date("2020-01-01"), max: new Date("2030-01-01") })
      .map((d) => d.toISOString());
  const min = Math.max(s.minLength ?? 1, 0);
  const max = Math.max(min, Math.min(s.maxLength ?? 32, 32));
  if (s.pattern) {
    const patterned = patternArb(s.pattern, min, s.maxLength);
    if (patterned) return patterned;
  }
  if (max === 0) return fc.constant("");
  // Lengths go into the quantifier, never into a filter: a filter that rejects most values spins.
  return fc.oneof(
    fc.stringMatching(new RegExp(`^[a-z0-9][a-z0-9_.-]{${Math.max(min - 1, 0)},${max - 1}}$`)),
    fc.string({ minLength: min, maxLength: max }),
  );
}

function range(s: JsonSchema): [number, number] {
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : 0);
  const hi = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : lo + 1000);
  return [lo, Math.max(lo, Math.min(hi, lo + 100_000))];
}

/** `memberIds` → `memberId`, so array items of reference fields are recognised as references. */
const singular = (name: string) => (name.endsWith("Ids") ? name.slice(0, -1) : name);

function merged(parts: JsonSchema[]): JsonSchema {
  return {
    type: "object",
    properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})),
    required: parts.flatMap((p) => p.required ?? []),
  };
}
