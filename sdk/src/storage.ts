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
