import DataLoader from "dataloader";

/**
 * A DataLoader that also keeps the values it has loaded (or was primed with), so `get` can answer
 * a key it already holds synchronously. A resolver that returns `get(key)` stays synchronous once
 * the value is there, and graphql-js completes a whole subtree of synchronous fields without a
 * promise per object: on a page of 100 assessments with ~1,000 revisions that is most of them.
 */
export class KeyLoader<K, V> extends DataLoader<K, V> {
  private readonly values: Map<K, V>;

  constructor(fetch: (keys: readonly K[]) => Promise<V[]>) {
    const values = new Map<K, V>();
    super(async (keys) => {
      const found = await fetch(keys);
      keys.forEach((k, i) => values.set(k, found[i] as V));
      return found;
    });
    this.values = values;
  }

  /** The value when loaded already, else the promise `load` gives. */
  get(key: K): V | Promise<V> {
    return this.values.has(key) ? (this.values.get(key) as V) : this.load(key);
  }

  override prime(key: K, value: V | PromiseLike<V> | Error): this {
    if (!(value instanceof Error) && !isPromiseLike(value) && !this.values.has(key)) this.values.set(key, value);
    return super.prime(key, value);
  }

  override clear(key: K): this {
    this.values.delete(key);
    return super.clear(key);
  }

  override clearAll(): this {
    this.values.clear();
    return super.clearAll();
  }
}

const isPromiseLike = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === "object" && v !== null && typeof (v as { then?: unknown }).then === "function";

/** `f(v)` now when `v` is a value, after it resolves when it is a promise. */
export const andThen = <T, R>(v: T | Promise<T>, f: (t: T) => R | Promise<R>): R | Promise<R> =>
  v instanceof Promise ? v.then(f) : f(v);

/**
 * A loader for one record per key: one query for a whole batch, results in key order, null for
 * keys with no (visible) record.
 */
export function byKey<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (v: V) => K): KeyLoader<K, V | null> {
  return new KeyLoader<K, V | null>(async (keys) => {
    const found = new Map<K, V>();
    for (const v of await fetch(keys)) found.set(keyOf(v), v);
    return keys.map((k) => found.get(k) ?? null);
  });
}

/** A loader for the many records under each key (one query a batch), in the order fetched. */
export function grouped<K, V>(fetch: (keys: readonly K[]) => Promise<V[]>, keyOf: (v: V) => K): KeyLoader<K, V[]> {
  return new KeyLoader<K, V[]>(async (keys) => {
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
