import { typesOf, type JsonSchema, type Parameter, type Resolve } from "./openapi";

/**
 * Decides whether a value *certainly* breaks a schema of the document, so the oracle may demand
 * "no 2xx". It errs towards "not certain": `pattern` and `format` are not checked (the document
 * renders some zod regexes with their flags appended, and zod's formats differ from JSON
 * Schema's), string lengths are measured after trimming for maxima (zod's `.trim()` runs before
 * its checks), and a union is broken only when every branch is. Zod refinements the document
 * cannot express (e.g. "exactly one of role, muted") are simply not seen.
 */
export function violation(schema: JsonSchema, value: unknown, resolve: Resolve, at = "", depth = 0): string | null {
  const s = resolve(schema);
  if (depth > 64) return null;
  const branches = s.oneOf ?? s.anyOf;
  if (branches && branches.length > 0) {
    const each = branches.map((b) => violation(b, value, resolve, at, depth + 1));
    return each.every((v) => v !== null) ? each[0]! : null;
  }
  for (const part of s.allOf ?? []) {
    const v = violation(part, value, resolve, at, depth + 1);
    if (v) return v;
  }
  const where = at || "(root)";
  if (s.enum && !s.enum.some((e) => sameJson(e, value))) return `${where}: not one of the enum`;
  if (s.const !== undefined && !sameJson(s.const, value)) return `${where}: not the const`;
  const types = typesOf(s);
  if (types && !types.some((t) => hasType(t, value))) return `${where}: not ${types.join("|")}`;

  if (typeof value === "string") {
    if (s.maxLength !== undefined && [...value.trim()].length > s.maxLength)
      return `${where}: longer than ${s.maxLength}`;
    if (s.minLength !== undefined && value.length < s.minLength) return `${where}: shorter than ${s.minLength}`;
  } else if (typeof value === "number") {
    if (s.minimum !== undefined && value < s.minimum) return `${where}: below ${s.minimum}`;
    if (s.maximum !== undefined && value > s.maximum) return `${where}: above ${s.maximum}`;
    if (s.exclusiveMinimum !== undefined && value <= s.exclusiveMinimum)
      return `${where}: not above ${s.exclusiveMinimum}`;
    if (s.exclusiveMaximum !== undefined && value >= s.exclusiveMaximum)
      return `${where}: not below ${s.exclusiveMaximum}`;
  } else if (Array.isArray(value)) {
    if (s.maxItems !== undefined && value.length > s.maxItems) return `${where}: more than ${s.maxItems} items`;
    if (s.minItems !== undefined && value.length < s.minItems) return `${where}: fewer than ${s.minItems} items`;
    if (s.items) {
      for (let i = 0; i < value.length; i++) {
        const v = violation(s.items, value[i], resolve, `${at}[${i}]`, depth + 1);
        if (v) return v;
      }
    }
  } else if (isObject(value)) {
    for (const key of s.required ?? []) if (!Object.hasOwn(value, key)) return `${where}: missing required '${key}'`;
    const props = s.properties ?? {};
    for (const [key, v] of Object.entries(value)) {
      const prop = Object.hasOwn(props, key) ? props[key] : undefined;
      if (prop) {
        const inner = violation(prop, v, resolve, at ? `${at}.${key}` : key, depth + 1);
        if (inner) return inner;
      } else if (s.additionalProperties === false) {
        return `${where}: unknown field '${key}' on a strict object`;
      } else if (typeof s.additionalProperties === "object") {
        const inner = violation(s.additionalProperties, v, resolve, at ? `${at}.${key}` : key, depth + 1);
        if (inner) return inner;
      }
    }
  }
  return null;
}

/**
 * The same for a query, path or header parameter, whose value is a string on the wire. Numbers
 * are read as zod's `z.coerce.number()` reads them (`Number(raw)`), so " 5" and "0x10" count as
 * numbers; booleans coerce from anything and are never certainly broken.
 */
export function paramViolation(p: Parameter, raw: string | undefined, resolve: Resolve): string | null {
  if (raw === undefined) return p.required ? `${p.in} '${p.name}' missing` : null;
  const s = resolve(p.schema);
  const types = (typesOf(s) ?? ["string"]).filter((t) => t !== "null");
  if (types.includes("string")) return violation({ ...s, type: "string" }, raw, resolve, `${p.in} ${p.name}`);
  if (types.includes("boolean")) return null;
  if (types.includes("integer") || types.includes("number")) {
    const n = Number(raw);
    if (Number.isNaN(n)) return `${p.in} ${p.name}: not a number`;
    return violation({ ...s, type: types.includes("number") ? "number" : "integer" }, n, resolve, `${p.in} ${p.name}`);
  }
  return null;
}

function hasType(t: string, v: unknown): boolean {
  switch (t) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v);
    case "number":
      return typeof v === "number" && Number.isFinite(v);
    case "boolean":
      return typeof v === "boolean";
    case "null":
      return v === null;
    case "array":
      return Array.isArray(v);
    case "object":
      return isObject(v);
    default:
      return true;
  }
}

/** A plain JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
