import { errorChain } from "../lib/errors";

/** True for a SQLite UNIQUE/CHECK/constraint violation, however deeply the drivers wrapped it. */
export function isConstraintViolation(err: unknown): boolean {
  return [...errorChain(err)].some(({ code }) => typeof code === "string" && code.startsWith("SQLITE_CONSTRAINT"));
}
