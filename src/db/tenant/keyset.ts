import { and, eq, gt, lt, or, type SQL } from "drizzle-orm";
import type { AnySQLiteColumn } from "drizzle-orm/sqlite-core";

/**
 * Keyset conditions for lists paged on a (key, id) pair, the signed cursor's "time-id" shape:
 * the rows past the cursor's last row, newest first (`before`) or oldest first (`after`).
 * Undefined without a cursor (the first page).
 */
export const before = (key: AnySQLiteColumn, id: AnySQLiteColumn, at?: [number, string]): SQL | undefined =>
  at ? or(lt(key, at[0]), and(eq(key, at[0]), lt(id, at[1]))) : undefined;

export const after = (key: AnySQLiteColumn, id: AnySQLiteColumn, at?: [number, string]): SQL | undefined =>
  at ? or(gt(key, at[0]), and(eq(key, at[0]), gt(id, at[1]))) : undefined;
