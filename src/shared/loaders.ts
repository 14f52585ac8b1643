import DataLoader from "dataloader";

/**
 * A loader for one record per key: one query for a whole batch, results in key order, null for
 * keys with no (visible) record.
 */
export function byKey<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (v: V) => K): DataLoader<K, V | null> {
  return new DataLoader<K, V | null>(async (keys) => {
    const found = new Map<K, V>();
    for (const v of await fetch(keys)) found.set(keyOf(v), v);
    return keys.map((k) => found.get(k) ?? null);
  });
}

/** A loader for the many records under each key (one query a batch), in the order fetched. */
export function grouped<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (v: V) => K): DataLoader<K, V[]> {
  return new DataLoader<K, V[]>(async (keys) => {
    const groups = new Map<K, V[]>();
    for (const v of await fetch(keys)) {
      const k = keyOf(v);
      const list = groups.get(k);
      if (list) list.push(v);
      else groups.set(k, [v]);
    }
    return keys.map((k) => groups.get(k) ?? []);
  });
}
