import { createStore, del, get, set } from "idb-keyval";

/** Where the client keeps what must outlive a page or a process: the session's tokens. */
export interface TokenStorage {
  get(key: string): Promise<string | null> | string | null;
  set(key: string, value: string): Promise<void> | void;
  remove(key: string): Promise<void> | void;
}

/** The default: memory only (a reload signs out). */
export function memoryStorage(): TokenStorage {
  const m = new Map<string, string>();
  return {
    get: (k) => m.get(k) ?? null,
    set: (k, v) => void m.set(k, v),
    remove: (k) => void m.delete(k),
  };
}

/** Browsers: `localStorage`, keys prefixed (`canopy:` by default). */
export function localStorageAdapter(prefix = "canopy:", store: Storage = globalThis.localStorage): TokenStorage {
  return {
    get: (k) => store.getItem(prefix + k),
    set: (k, v) => store.setItem(prefix + k, v),
    remove: (k) => store.removeItem(prefix + k),
  };
}

/**
 * Browsers, where the realtime cursors and offline queue must outlive a reload without
 * `localStorage`'s size limit and blocking writes: IndexedDB through idb-keyval (one object store,
 * `canopy` / `kv` by default). Writes survive the tab closing once their promise resolves.
 */
export function indexedDbStorage(dbName = "canopy", storeName = "kv"): TokenStorage {
  const store = createStore(dbName, storeName);
  return {
    get: async (k) => (await get<string>(k, store)) ?? null,
    set: (k, v) => set(k, v, store),
    remove: (k) => del(k, store),
  };
}
