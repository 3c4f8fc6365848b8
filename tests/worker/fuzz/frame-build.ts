import { deleteAt, getAt, setAt, slotsOf, spliced, type Slot } from "./body";
import {
  ANY_FRAME,
  BODIES,
  CONVERSATION_ID,
  FRAME_SCHEMAS,
  HUGE,
  MAX_BODY_BYTES,
  NOT_OBJECTS,
  NUMBERS,
  resolve,
  UNKNOWN_TYPES,
  type FrameCase,
  type FrameFixtures,
} from "./frames";
import { CONTROL, deepJson, INVALID_UTF8, malformedJson, pick, WRONG_TYPES } from "./hostile";
import type { JsonSchema } from "./openapi";
import { unknownId } from "./pools";
import { isObject, violation } from "./schema-check";

/**
 * Builds the frame of one case (tests/worker/fuzz/frames.ts): applies its mutation and decides,
 * from the frame schemas and docs/realtime.md, whether the hub must refuse it.
 */

/** A frame ready to send, with what the protocol promises about its answer. */
export interface BuiltFrame {
  /** Text frames are strings, binary frames bytes. */
  data: string | Uint8Array;
  /** Size as the cap counts it (UTF-8 bytes of a text frame). */
  bytes: number;
  /** Why the frame is invalid (then: an `error` frame with code `invalid_frame`); empty when valid-looking. */
  invalid: string[];
  /** The frame as the hub parses it, when it is a JSON object the JSON guard lets through. */
  parsed?: Record<string, unknown>;
  /** Hostile content the hub may legitimately accept (control characters). */
  soft?: string;
  /** The mutation and where it struck, for the report. */
  label: string;
}

const utf8 = (s: string) => new TextEncoder().encode(s);
const where = (s: Slot | undefined) => (s && s.path.length ? s.path.join(".") : "(root)");

/** The schema slots are read from: the frame's, with the body's schema for its kind in place of `unknown`. */
function slotSchema(type: string, frame: Record<string, unknown>): JsonSchema {
  const s = FRAME_SCHEMAS[type]!;
  if (type !== "send" && type !== "edit") return s;
  const kind = type === "send" ? String(frame.kind ?? "text") : "text";
  return { ...s, properties: { ...s.properties, body: BODIES[kind] ?? BODIES.custom! } };
}

/** Applies a case's mutation to its frame and decides what the answer must be. */
export function buildFrame(c: FrameCase, fx: FrameFixtures): BuiltFrame {
  const m = c.mutation;
  const invalid: string[] = [];
  let value: unknown = c.base;
  let raw: string | undefined;
  let binary: Uint8Array | undefined;
  let soft: string | undefined;
  let detail = "";
  const slots = slotsOf(slotSchema(c.type, c.base), c.base, resolve);
  const strings = slots.filter(
    (s) => typeof getAt(c.base, s.path) === "string" || (resolve(s.schema).type === "string" && s.path.length > 0),
  );
  const choose = (list: Slot[], i: number) => (list.length ? pick(list, i) : undefined);

  switch (m.kind) {
    case "baseline":
      break;
    case "wrong-type": {
      const s = choose(slots, m.slot)!;
      value = setAt(value, s.path, pick(WRONG_TYPES, m.value));
      detail = `${where(s)} = ${JSON.stringify(pick(WRONG_TYPES, m.value))}`;
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
    case "extra-field": {
      const s = choose(
        slots.filter((x) => isObject(getAt(value, x.path))),
        m.slot,
      );
      if (s) value = setAt(value, [...s.path, m.key], m.value);
      detail = `${where(s)}.${m.key}`;
      break;
    }
    case "huge-string": {
      const s = choose(strings, m.slot) ?? slots[0]!;
      value = setAt(value, s.path, "x".repeat(pick(HUGE, m.size)));
      detail = `${where(s)}: ${pick(HUGE, m.size)} chars`;
      break;
    }
    case "deep-json": {
      const s = choose(slots, m.slot)!;
      raw = new TextDecoder().decode(
        s.path.length ? spliced(value, s.path, utf8(deepJson(5000, m.shape))) : utf8(deepJson(5000, m.shape)),
      );
      invalid.push(`JSON nested 5000 deep at ${where(s)}`);
      detail = `${m.shape} at ${where(s)}`;
      break;
    }
    case "nul":
    case "control":
    case "lone-surrogate": {
      const s = choose(strings, m.slot) ?? slots.find((x) => x.path[0] === "type")!;
      const ch =
        m.kind === "nul" ? "\u0000" : m.kind === "control" ? pick(CONTROL, m.char) : m.high ? "\ud800" : "\udc00";
      const cur = getAt(value, s.path);
      const text = typeof cur === "string" && cur.length ? cur : "fuzz";
      const at = m.kind === "nul" ? m.at % (text.length + 1) : Math.floor(text.length / 2);
      value = setAt(value, s.path, text.slice(0, at) + ch + text.slice(at));
      // The hub runs the HTTP bodies' JSON guard on frames: NUL and lone surrogates, escaped or not, are refused.
      if (m.kind === "nul") invalid.push(`NUL in ${where(s)}`);
      else if (m.kind === "lone-surrogate") invalid.push(`lone surrogate in ${where(s)}`);
      else soft = `control character ${JSON.stringify(ch)} in ${where(s)}`;
      detail = where(s);
      break;
    }
    case "conversation": {
      const id =
        m.whose === "foreign"
          ? fx.foreign
          : m.whose === "not-in"
            ? fx.notIn
            : unknownId(fx.pools, "conversations", m.salt);
      if (c.type === "sync") value = { ...c.base, cursors: { ...(c.base.cursors as object), [id]: 0 } };
      else if ("conversationId" in c.base) value = { ...c.base, conversationId: id };
      detail = value === c.base ? "(no conversation: a baseline)" : `${m.whose} conversation ${id}`;
      break;
    }
    case "message": {
      const id =
        m.whose === "others"
          ? pick(fx.messages.others, m.salt)
          : m.whose === "elsewhere"
            ? fx.messages.elsewhere
            : m.whose === "foreign"
              ? fx.messages.foreign
              : unknownId(fx.pools, "messages", m.salt);
      if ("messageId" in c.base) value = { ...c.base, messageId: id };
      else if (c.type === "send")
        value = {
          ...c.base,
          kind: "file",
          body: { fileId: m.whose === "others" ? fx.files.others : unknownId(fx.pools, "files", m.salt) },
        };
      detail =
        value === c.base
          ? "(no message or file: a baseline)"
          : `${m.whose} ${"messageId" in c.base ? `message ${id}` : "file"}`;
      break;
    }
    case "number": {
      const num = pick(NUMBERS, m.value);
      if (c.type === "sync") value = { ...c.base, cursors: { ...(c.base.cursors as object), [fx.mine[0]!]: num } };
      else value = { ...c.base, seq: num };
      detail = `seq ${num}`;
      break;
    }
    case "unknown-type":
      value = { ...c.base, type: pick(UNKNOWN_TYPES, m.variant) };
      detail = `type ${JSON.stringify(pick(UNKNOWN_TYPES, m.variant))}`;
      break;
    case "not-object":
      raw = pick(NOT_OBJECTS, m.variant);
      invalid.push("not a frame object");
      detail = raw;
      break;
    case "malformed-json":
      raw = malformedJson(JSON.stringify(value), m.variant, m.salt);
      invalid.push("malformed JSON");
      break;
    case "binary": {
      const v = m.variant % (INVALID_UTF8.length + 1);
      binary = v === 0 ? utf8(JSON.stringify(value)) : Uint8Array.from(INVALID_UTF8[v - 1]!);
      invalid.push("a binary frame");
      detail = v === 0 ? "the frame's JSON" : `bytes ${[...binary].map((b) => b.toString(16)).join(" ")}`;
      break;
    }
    case "oversize": {
      // Just past the cap: ASCII, three-byte characters (the cap counts bytes, not characters), binary.
      const over = fx.maxFrameBytes + 1 + (m.variant % 10);
      const shape = Math.floor(m.variant / 10) % 3;
      if (shape === 2) binary = new Uint8Array(over);
      else raw = JSON.stringify({ ...c.base, pad: shape === 0 ? "x".repeat(over) : "€".repeat(Math.ceil(over / 3)) });
      detail = `${["ascii", "three-byte text", "binary"][shape]} over ${fx.maxFrameBytes} bytes`;
      break;
    }
    case "many-cursors": {
      // 100 cursors are allowed (those not the user's get an error each), 101 are not.
      const count = m.extra ? 101 : 100;
      const ids = [
        ...fx.mine,
        ...Array.from({ length: count - fx.mine.length }, (_, i) => unknownId(fx.pools, "conversations", i)),
      ];
      value = { type: "sync", cursors: Object.fromEntries(ids.map((id) => [id, 0])) };
      if (m.extra) invalid.push("more than 100 cursors");
      detail = `${count} cursors`;
      break;
    }
  }

  const data = binary ?? raw ?? JSON.stringify(value);
  const bytes = typeof data === "string" ? utf8(data).length : data.length;
  const json = raw === undefined && binary === undefined;
  if (json && !isObject(value)) invalid.push("the frame is not a JSON object");
  const parsed = json && isObject(value) && invalid.length === 0 ? value : undefined;
  if (parsed) invalid.push(...frameViolations(parsed));
  if (parsed && hasProtoKey(parsed)) invalid.push("an own __proto__ key (refused anywhere in a frame)");
  const label = `${c.type} ${m.kind}${detail ? ` ${detail.length > 100 ? `${detail.slice(0, 100)}…` : detail}` : ""}`;
  return { data, bytes, invalid, ...(parsed ? { parsed } : {}), ...(soft ? { soft } : {}), label };
}

/** True when an object in `v` has an own `__proto__` key. */
function hasProtoKey(v: unknown): boolean {
  if (v === null || typeof v !== "object") return false;
  if (!Array.isArray(v) && Object.hasOwn(v, "__proto__")) return true;
  return Object.values(v).some(hasProtoKey);
}

/** Why a parsed frame certainly breaks the protocol (schema, id format, body for its kind, sizes). */
function frameViolations(f: Record<string, unknown>): string[] {
  const out: string[] = [];
  const v = violation(ANY_FRAME, f, resolve);
  if (v) return [`schema: ${v}`];
  if (typeof f.conversationId === "string" && !CONVERSATION_ID.test(f.conversationId))
    out.push("conversationId is not a conversation id");
  if (isObject(f.cursors)) {
    const keys = Object.keys(f.cursors);
    if (keys.some((k) => !CONVERSATION_ID.test(k))) out.push("a cursor key is not a conversation id");
    if (keys.length > 100) out.push("more than 100 cursors");
  }
  if (f.type === "send") {
    const kind = String(f.kind ?? "text");
    const bad = violation(BODIES[kind] ?? {}, f.body, resolve);
    if (bad) out.push(`body of a ${kind} message: ${bad}`);
    else if (utf8(JSON.stringify(f.body)).length > MAX_BODY_BYTES) out.push(`body over ${MAX_BODY_BYTES} bytes`);
  }
  return out;
}
