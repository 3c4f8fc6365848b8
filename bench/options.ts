/** The command-line options every benchmark entry shares, and the integer reader they all use. */
import { tmpdir } from "node:os";
import { resolve } from "node:path";

/** The options every benchmark takes (parseArgs' `options`): --no-build, --keep, --scratch <dir>, --strict. */
export const RUN_OPTIONS = {
  "no-build": { type: "boolean", default: false },
  keep: { type: "boolean", default: false },
  scratch: { type: "string" },
  strict: { type: "boolean", default: false },
} as const;

export interface RunOptions {
  build: boolean;
  /** Keep the scratch directory (logs, databases) even on success. */
  keep: boolean;
  /** Parent directory of the scratch directory. */
  scratchParent: string;
  /** Exit 3 when a goal is missed. */
  strict: boolean;
}

/** {@link RUN_OPTIONS} as parsed, read into their settings. */
export function runOptions(values: {
  "no-build": boolean;
  keep: boolean;
  scratch?: string;
  strict: boolean;
}): RunOptions {
  return {
    build: !values["no-build"],
    keep: values.keep,
    scratchParent: resolve(values.scratch ?? tmpdir()),
    strict: values.strict,
  };
}

/** The integer option `--<name>` (`fallback` when absent); throws unless it is in `min..max`. */
export function intOption(name: string, v: string | undefined, fallback: number, min: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new Error(`--${name} must be an integer in ${min}..${max}, got ${v}`);
  return n;
}
