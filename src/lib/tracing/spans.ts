import { AsyncLocalStorage } from "node:async_hooks";
import { metrics } from "../metrics/recorder";

/** OTLP span kinds (https://opentelemetry.io/docs/specs/otel/trace/api/#spankind). */
export const SpanKind = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
export type SpanKindName = keyof typeof SpanKind;

export type Attributes = Record<string, string | number | boolean>;

/** A finished span, as the exporter sends it. */
export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: SpanKindName;
  startMs: number;
  endMs: number;
  attributes: Attributes;
  error?: string;
}

/** The trace a piece of work belongs to: ids, and whether its spans are recorded. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C traceparent's context, or null when it is missing or malformed (all-zero ids included). */
export function parseTraceparent(header: string | undefined | null): TraceContext | null {
  const m = header ? TRACEPARENT.exec(header) : null;
  if (!m || /^0+$/.test(m[1]!) || /^0+$/.test(m[2]!)) return null;
  return { traceId: m[1]!, spanId: m[2]!, sampled: (Number.parseInt(m[3]!, 16) & 1) === 1 };
}

export const traceparent = (t: TraceContext) => `00-${t.traceId}-${t.spanId}-${t.sampled ? "01" : "00"}`;

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
function hex(bytes: Uint8Array, from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) out += HEX[bytes[i]!];
  return out;
}

/** A span's ids: the parent's trace or a new one, and a new span id, from one call into the RNG. */
function newIds(parent: TraceContext | null): { traceId: string; spanId: string } {
  const r = crypto.getRandomValues(new Uint8Array(parent ? 8 : 24));
  return parent ? { traceId: parent.traceId, spanId: hex(r, 0, 8) } : { traceId: hex(r, 8, 24), spanId: hex(r, 0, 8) };
}

/**
 * Whether sampled spans are recorded in this isolate: only when a collector is configured
 * (OTEL_EXPORTER_OTLP_ENDPOINT). Without one the trace context still flows (headers, events).
 */
let collectorSet = false;
export function configureTracing(env: { OTEL_EXPORTER_OTLP_ENDPOINT?: string }): void {
  collectorSet = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/**
 * The context of work that starts here: the caller's trace when it sent a valid one (its sampling
 * decision followed), else a new trace sampled at `ratio` (OTEL_TRACES_SAMPLER_ARG).
 */
export function startTrace(
  parent: TraceContext | null,
  ratio: number,
): { parent: TraceContext | null; sampled: boolean } {
  return { parent, sampled: parent ? parent.sampled : ratio >= 1 || Math.random() < ratio };
}

/** Spans finished and waiting for the exporter; beyond the cap new ones are dropped and counted. */
const MAX_BUFFERED = 2048;
const buffered: SpanRecord[] = [];

/** Takes every buffered span (the exporter's batch). */
export function takeSpans(max = MAX_BUFFERED): SpanRecord[] {
  return buffered.splice(0, max);
}
export const bufferedSpans = () => buffered.length;

/** Whether spans of a sampled trace are recorded here (a collector is configured). */
export const isRecording = () => collectorSet;

/** What code inside a span may do with it. */
export interface SpanHandle {
  readonly context: TraceContext;
  set(key: string, value: string | number | boolean): void;
  end(error?: unknown): void;
}

const UNTRACED: TraceContext = { traceId: "0".repeat(32), spanId: "0".repeat(16), sampled: false };
/** The span of work that is not recorded: costs nothing, keeps the parent's context for propagation. */
const notRecorded = (parent: TraceContext | undefined): SpanHandle => ({
  context: parent ?? UNTRACED,
  set() {},
  end() {},
});

/** A span in progress; `end` records it (once). */
export class Span implements SpanHandle {
  readonly context: TraceContext;
  private ended = false;
  private readonly startMs = Date.now();

  constructor(
    private name: string,
    private readonly kind: SpanKindName,
    parent: TraceContext | null,
    private readonly attributes: Attributes = {},
    sampled = parent?.sampled ?? false,
  ) {
    this.parentSpanId = parent?.spanId;
    this.context = { ...newIds(parent), sampled };
  }

  /** Whether this span will be exported (sampled, and a collector is set). */
  get recording(): boolean {
    return this.context.sampled && collectorSet;
  }
  private readonly parentSpanId: string | undefined;

  set(key: string, value: string | number | boolean): void {
    this.attributes[key] = value;
  }

  /** Names the span once what it is is known (a server span by its route template). */
  rename(name: string): void {
    this.name = name;
  }

  end(error?: unknown): void {
    if (this.ended || !this.context.sampled || !collectorSet) return;
    this.ended = true;
    if (buffered.length >= MAX_BUFFERED) {
      metrics.add("canopy_spans_dropped_total", { reason: "buffer_full" });
      return;
    }
    buffered.push({
      traceId: this.context.traceId,
      spanId: this.context.spanId,
      ...(this.parentSpanId ? { parentSpanId: this.parentSpanId } : {}),
      name: this.name,
      kind: this.kind,
      startMs: this.startMs,
      endMs: Date.now(),
      attributes: this.attributes,
      ...(error === undefined ? {} : { error: error instanceof Error ? error.message : String(error) }),
    });
  }
}

/**
 * The current trace context, carried across awaits (AsyncLocalStorage, compatibility flag
 * `nodejs_als`): code deep below a request (a database call) finds its parent span here.
 */
const current = new AsyncLocalStorage<TraceContext>();

export const activeTrace = (): TraceContext | undefined => current.getStore();

/** The current trace context as a traceparent header, or null outside of any. */
export function currentTraceparent(): string | null {
  const t = current.getStore();
  return t ? traceparent(t) : null;
}

/** Runs `fn` with `ctx` as the current trace context. */
export function withTrace<T>(ctx: TraceContext, fn: () => T): T {
  return current.run(ctx, fn);
}

/**
 * Runs `fn` in a child span of the current trace (none recorded when there is no sampled trace:
 * the context still flows, so propagation works with tracing off). The span ends when `fn`
 * settles, with the error if it threw.
 */
export async function inSpan<T>(
  name: string,
  kind: SpanKindName,
  attributes: Attributes,
  fn: (span: SpanHandle) => Promise<T>,
): Promise<T> {
  const parent = activeTrace();
  if (!parent?.sampled || !collectorSet) return fn(notRecorded(parent));
  const span = new Span(name, kind, parent, attributes);
  try {
    const out = await current.run(span.context, () => fn(span));
    span.end();
    return out;
  } catch (err) {
    span.end(err);
    throw err;
  }
}

/**
 * Runs `fn` (sync or async) in a server span that continues `parent`, a traceparent received as
 * data where no header can carry it: an RPC argument of a Durable Object. Without a parent, a
 * new trace starts when `ratio` is given (a socket frame: the root of its own trace), else none.
 * Not recorded (no collector, or not sampled), the parent still becomes the current context, so
 * calls made inside pass it on.
 */
export function continueTrace<T>(
  name: string,
  parent: string | null | undefined,
  attributes: Attributes,
  fn: () => T,
  ratio?: number,
): T {
  const ctx = parseTraceparent(parent);
  const sampled = ctx ? ctx.sampled : ratio !== undefined && startTrace(null, ratio).sampled;
  if (!sampled || !collectorSet) return ctx ? current.run(ctx, fn) : fn();
  const span = new Span(name, "server", ctx, attributes, true);
  let out: T;
  try {
    out = current.run(span.context, fn);
  } catch (err) {
    span.end(err);
    throw err;
  }
  if (out instanceof Promise)
    return out.then(
      (v: unknown) => {
        span.end();
        return v;
      },
      (err: unknown) => {
        span.end(err);
        throw err;
      },
    ) as T;
  span.end();
  return out;
}
