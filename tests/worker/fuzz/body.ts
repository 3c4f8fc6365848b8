import type { JsonSchema, Resolve } from "./openapi";
import { isObject, violation } from "./schema-check";

/** A place in a JSON body a mutation can target: a declared field (present or not) or the root. */
export interface Slot {
  path: (string | number)[];
  schema: JsonSchema;
  /** The field's name (for array items, the array's), to recognise reference fields. */
  name: string;
  present: boolean;
}

/**
 * Every declared field of the body under its schema, walked along the value: fields of objects
 * (also absent optional ones, which a mutation may add), the first item of arrays, and the root.
 * For unions, the branch the value fits.
 */
export function slotsOf(schema: JsonSchema, value: unknown, resolve: Resolve): Slot[] {
  const out: Slot[] = [{ path: [], schema, name: "", present: true }];
  walk(schema, value, [], "", resolve, out, 0);
  return out;
}

function walk(
  schema: JsonSchema,
  value: unknown,
  path: (string | number)[],
  name: string,
  resolve: Resolve,
  out: Slot[],
  depth: number,
): void {
  if (depth > 8) return;
  let s = resolve(schema);
  const branches = s.oneOf ?? s.anyOf;
  if (branches?.length) s = resolve(branches.find((b) => violation(b, value, resolve) === null) ?? branches[0]!);
  if (s.properties) {
    for (const [key, prop] of Object.entries(s.properties)) {
      const present = isObject(value) && Object.hasOwn(value, key);
      out.push({ path: [...path, key], schema: prop, name: key, present });
      if (present) walk(prop, (value as Record<string, unknown>)[key], [...path, key], key, resolve, out, depth + 1);
    }
  }
  if (s.items && Array.isArray(value) && value.length > 0) {
    out.push({ path: [...path, 0], schema: s.items, name, present: true });
    walk(s.items, value[0], [...path, 0], name, resolve, out, depth + 1);
  }
}

/** A copy of `root` with `value` at `path` (created if absent; `__proto__` as a plain own key). */
export function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy: unknown = structuredClone(root);
  let node: unknown = copy;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    if (typeof node !== "object" || node === null) return copy;
    const next = (node as Record<string | number, unknown>)[key];
    if (typeof next !== "object" || next === null) {
      define(node, key, typeof path[i + 1] === "number" ? [] : {});
    }
    node = (node as Record<string | number, unknown>)[key];
  }
  if (typeof node !== "object" || node === null) return copy;
  define(node, path[path.length - 1]!, value);
  return copy;
}

/** A copy of `root` without the field at `path`. */
export function deleteAt(root: unknown, path: (string | number)[]): unknown {
  if (path.length === 0) return undefined;
  const copy: unknown = structuredClone(root);
  let node: unknown = copy;
  for (const key of path.slice(0, -1))
    node = typeof node === "object" && node !== null ? (node as Record<string | number, unknown>)[key] : undefined;
  if (typeof node === "object" && node !== null)
    delete (node as Record<string | number, unknown>)[path[path.length - 1]!];
  return copy;
}

/** The value at `path`, if any. */
export function getAt(root: unknown, path: (string | number)[]): unknown {
  let node = root;
  for (const key of path)
    node = typeof node === "object" && node !== null ? (node as Record<string | number, unknown>)[key] : undefined;
  return node;
}

function define(node: unknown, key: string | number, value: unknown): void {
  Object.defineProperty(node, key, { value, enumerable: true, writable: true, configurable: true });
}

const MARK = "__fuzz_raw_slot__";
const encoder = new TextEncoder();

/**
 * The body as bytes with a raw fragment spliced in at `path`: JSON text that could not be built
 * as a value (5,000-deep nesting) or bytes that are not UTF-8 inside a string.
 */
export function spliced(root: unknown, path: (string | number)[], fragment: Uint8Array): Uint8Array {
  const text = JSON.stringify(setAt(root, path, MARK));
  const [before, after] = splitOnce(text, JSON.stringify(MARK));
  return concat(encoder.encode(before), fragment, encoder.encode(after));
}

function splitOnce(text: string, sep: string): [string, string] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, ""] : [text.slice(0, i), text.slice(i + sep.length)];
}

/** Joins byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
