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

/** The loaders a set of factories makes: one property per factory. */
export type LoadersOf<F> = { readonly [K in keyof F]: F[K] extends (deps: never) => infer L ? L : never };

/** What every one of a set of factories needs. */
type DepsOf<F> = [F[keyof F]] extends [(deps: infer D) => object] ? D : never;

const DEPS = Symbol("deps");
const MADE = Symbol("made");

/** What an operation's loaders hold: what the factories need, and the loaders made so far. */
class LazyLoaders<D> {
  readonly [DEPS]: D;
  readonly [MADE]: Record<string, object | undefined> = {};
  constructor(deps: D) {
    this[DEPS] = deps;
  }
}

/**
 * Per-operation loaders made on first use. Returns a function that, for each operation, builds
 * an object with one property per factory; the first read of a property calls its factory with
 * the operation's `deps`, and every later read returns that same loader. An operation pays only
 * for the loaders it uses (a point lookup uses none) instead of building every module's loaders
 * up front. The getters sit on a class's prototype shared by all operations, so building the
 * object is one small allocation. Reference it from the context: Apollo copies the context object
 * itself, which would run getters defined on it.
 */
export function lazyLoaders<F extends Record<string, (deps: never) => object>>(
  factories: F,
): (deps: DepsOf<F>) => LoadersOf<F> {
  type D = DepsOf<F>;
  class Loaders extends LazyLoaders<D> {}
  for (const [key, make] of Object.entries(factories) as [string, (deps: D) => object][])
    Object.defineProperty(Loaders.prototype, key, {
      get(this: Loaders) {
        return (this[MADE][key] ??= make(this[DEPS]));
      },
    });
  return (deps) => new Loaders(deps) as unknown as LoadersOf<F>;
}
