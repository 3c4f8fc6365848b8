import { concat, deleteAt, getAt, setAt, slotsOf, spliced, type Slot } from "./body";
import type { Baseline } from "./cases";
import type { Mutation } from "./mutations";
import { CONTROL, deepJson, INVALID_UTF8, malformedJson, pick, WRONG_CONTENT_TYPES, WRONG_TYPES } from "./hostile";
import { declaresForm, declaresJson, typesOf, type Operation, type Resolve } from "./openapi";
import { foreignId, isReferenceField, kindOf, unknownId } from "./pools";
import { isObject, violation } from "./schema-check";
import { PNG, type World } from "./world";

/** The body a case sends, and why a 2xx would be wrong because of it. */
export interface BuiltBody {
  body?: Uint8Array | FormData;
  contentType?: string;
  reasons: string[];
  /** Hostile input a server may legitimately accept; a 2xx is noted, not failed. */
  soft?: string;
  /** What was done, for the report. */
  detail?: string;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const DEPTH = 5000;
const HUGE_STRING = 100_000;
const HUGE_ARRAY = 10_000;

const stringy = (s: Slot, resolve: Resolve) => (typesOf(resolve(s.schema)) ?? []).includes("string");
const where = (s: Slot | undefined) => (s && s.path.length ? s.path.join(".") : "(root)");

/** A content type the operation's declared body types do not accept. */
export function isWrongFor(op: Operation, contentType: string): boolean {
  const media = contentType.split(";")[0]!.trim().toLowerCase();
  if (declaresJson(op) && /^application\/([\w.-]+\+)?json$/.test(media)) return false;
  if (declaresForm(op) && (media === "multipart/form-data" || media === "application/x-www-form-urlencoded"))
    return false;
  return !(op.body?.contentTypes ?? []).includes(media);
}

/** Applies the case's body mutation to its baseline body. */
export function buildBody(
  op: Operation,
  base: Baseline,
  m: Mutation,
  world: World,
  resolve: Resolve,
  limit: number,
): BuiltBody {
  if (!op.body) {
    if (m.kind !== "unexpected-body") return { reasons: [] };
    return {
      body: utf8(JSON.stringify(m.value)),
      contentType: "application/json",
      reasons: [],
      detail: "a body on a route that takes none",
    };
  }
  if (m.kind === "content-type") {
    const ct = pick(
      WRONG_CONTENT_TYPES.filter((t) => isWrongFor(op, t)),
      m.variant,
    );
    const wrong = declaresJson(op) || declaresForm(op);
    return {
      body: utf8(JSON.stringify(base.body ?? {})),
      contentType: ct,
      reasons: wrong ? [`content-type ${ct} on a route declaring ${op.body.contentTypes.join(", ")}`] : [],
      detail: ct,
    };
  }
  if (m.kind === "no-body") {
    // Without a content type the validators see `{}` (hono's json target, the form target).
    const v = declaresJson(op) || declaresForm(op) ? violation(op.body.schema, {}, resolve) : null;
    return { reasons: v ? [`no body, and {} breaks the schema: ${v}`] : [] };
  }
  if (declaresJson(op)) return jsonBody(op, base.body, m, world, resolve, limit);
  if (declaresForm(op)) return formBody(op, base.body as Record<string, string>, m, resolve);
  return {
    body: base.body instanceof Uint8Array ? base.body : new Uint8Array(0),
    contentType: op.body.contentTypes[0] ?? "application/octet-stream",
    reasons: [],
  };
}

function jsonBody(
  op: Operation,
  start: unknown,
  m: Mutation,
  world: World,
  resolve: Resolve,
  limit: number,
): BuiltBody {
  const schema = op.body!.schema;
  const slots = slotsOf(schema, start, resolve);
  const strings = slots.filter((s) => stringy(s, resolve));
  const reasons: string[] = [];
  let value = start;
  let raw: Uint8Array | undefined;
  let soft: string | undefined;
  let detail: string | undefined;
  const choose = (list: Slot[], i: number) => (list.length ? pick(list, i) : undefined);

  switch (m.kind) {
    case "extra-field": {
      const s = choose(
        slots.filter((x) => isObject(getAt(value, x.path))),
        m.slot,
      );
      if (s) value = setAt(value, [...s.path, m.key], m.value);
      detail = `${where(s)}.${m.key}`;
      break;
    }
    case "missing-required": {
      const s = choose(
        slots.filter((x) => x.present && x.path.length > 0),
        m.slot,
      );
      if (s) value = deleteAt(value, s.path);
      detail = where(s);
      break;
    }
    case "wrong-type": {
      const s = choose(slots, m.slot)!;
      value = setAt(value, s.path, pick(WRONG_TYPES, m.value));
      detail = `${where(s)} = ${JSON.stringify(pick(WRONG_TYPES, m.value))}`;
      break;
    }
    case "huge-string": {
      const s = choose(strings, m.slot) ?? slots[0]!;
      value = setAt(value, s.path, "x".repeat(HUGE_STRING));
      detail = where(s);
      break;
    }
    case "huge-array": {
      const s = choose(slots, m.slot)!;
      const cur = getAt(value, s.path);
      value = setAt(
        value,
        s.path,
        new Array<unknown>(HUGE_ARRAY).fill(Array.isArray(cur) && cur.length ? cur[0] : (cur ?? "x")),
      );
      detail = where(s);
      break;
    }
    case "deep-json": {
      const s = choose(slots, m.slot)!;
      raw = s.path.length ? spliced(value, s.path, utf8(deepJson(DEPTH, m.shape))) : utf8(deepJson(DEPTH, m.shape));
      reasons.push(`JSON nested ${DEPTH} deep at ${where(s)}`);
      detail = `${m.shape} at ${where(s)}`;
      break;
    }
    case "nul":
    case "control":
    case "lone-surrogate": {
      const s = choose(strings, m.slot);
      if (!s) break;
      const ch =
        m.kind === "nul" ? "\u0000" : m.kind === "control" ? pick(CONTROL, m.char) : m.high ? "\ud800" : "\udc00";
      const cur = getAt(value, s.path);
      const text = typeof cur === "string" && cur.length ? cur : "fuzz";
      const at = m.kind === "nul" ? m.at % (text.length + 1) : Math.floor(text.length / 2);
      value = setAt(value, s.path, text.slice(0, at) + ch + text.slice(at));
      if (m.kind === "nul") reasons.push(`NUL in string field ${where(s)}`);
      else
        soft =
          m.kind === "control" ? `control character ${JSON.stringify(ch)}` : "lone surrogate (escaped in the JSON)";
      detail = where(s);
      break;
    }
    case "invalid-utf8": {
      // Inside a declared string, or an added field when the body has none: the bytes are the point.
      const s = choose(strings, m.slot);
      const path = s ? s.path : isObject(value) ? ["fuzz"] : [];
      const bytes = Uint8Array.from(pick(INVALID_UTF8, m.seq));
      const fragment = concat(utf8('"fz'), bytes, utf8('zz"'));
      raw = path.length ? spliced(value, path, fragment) : fragment;
      reasons.push(
        `invalid UTF-8 (${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ")}) in ${path.join(".") || "(root)"}`,
      );
      detail = path.join(".") || "(root)";
      break;
    }
    case "foreign-reference": {
      const s = choose(
        slots.filter((x) => isReferenceField(x.name) && stringy(x, resolve)),
        m.slot,
      );
      if (!s) break;
      const kind = kindOf("", s.name.endsWith("Ids") ? s.name.slice(0, -1) : s.name);
      const id = m.unknown
        ? unknownId(world.local, kind, m.salt)
        : (foreignId(world.foreign, kind, m.pick) ?? unknownId(world.local, kind, m.salt));
      value = setAt(value, s.path, id);
      reasons.push(`${where(s)} is ${m.unknown ? "an id of nothing" : "another tenant's id"}`);
      detail = `${where(s)} = ${id}`;
      break;
    }
    case "malformed-json":
      raw = utf8(malformedJson(JSON.stringify(value) ?? "", m.variant, m.salt));
      reasons.push("malformed JSON");
      break;
    case "body-too-large":
      raw = utf8(JSON.stringify({ pad: "x".repeat(limit + 1) }));
      break;
    default:
      break;
  }
  const body = raw ?? (value === undefined ? undefined : utf8(JSON.stringify(value)));
  if (!raw) {
    const v = violation(schema, value === undefined ? {} : value, resolve);
    if (v) reasons.push(`schema: ${v}`);
  }
  if (body && body.length > limit) reasons.push(`body of ${body.length} bytes over the limit of ${limit}`);
  return {
    ...(body ? { body, contentType: "application/json" } : {}),
    reasons,
    ...(soft ? { soft } : {}),
    ...(detail ? { detail } : {}),
  };
}

function formBody(op: Operation, start: Record<string, string>, m: Mutation, resolve: Resolve): BuiltBody {
  const fields = { ...start };
  const reasons: string[] = [];
  let detail: string | undefined;
  if (m.kind === "malformed-form") {
    // A multipart body cut off inside its first part: no closing boundary, no file.
    const text = `--fuzz\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nattachment\r\n--fuzz\r\nContent-Disposition: form-data; name="file"; filename="a`;
    return {
      body: utf8(text.slice(0, 40 + (Math.abs(m.salt) % (text.length - 40)))),
      contentType: "multipart/form-data; boundary=fuzz",
      reasons: ["malformed multipart body"],
    };
  }
  const keys = Object.keys(fields);
  if (m.kind === "missing-required" && keys.length) {
    detail = pick(keys, m.slot);
    delete fields[detail];
  }
  if (m.kind === "nul") {
    const text = keys.filter((k) => fields[k] !== "<file>");
    if (text.length) {
      detail = pick(text, m.slot);
      fields[detail] = `${fields[detail]}\u0000`;
      reasons.push(`NUL in form field ${detail}`);
    }
  }
  const v = violation(op.body!.schema, fields, resolve);
  if (v) reasons.push(`schema: ${v}`);
  const form = new FormData();
  for (const [k, val] of Object.entries(fields)) {
    if (val === "<file>") form.set(k, new Blob([PNG], { type: "image/png" }), "fuzz.png");
    else form.set(k, val);
  }
  return { body: form, reasons, ...(detail ? { detail } : {}) };
}
