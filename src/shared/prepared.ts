import { sql, type AnyColumn, type SQL } from "drizzle-orm";

/**
 * A statement built once per database and viewer and kept, for drizzle's `.prepare(name)`: a
 * prepared query runs on postgres.js with `prepare: true`, so each connection parses and plans its
 * text once and afterwards only binds and executes (an unprepared one costs a Parse/Describe round
 * trip, a parse and a plan every time). That pays only when the text is the same from one call to
 * the next: the access rule binds the viewer's values as parameters (its text varies only with the
 * organisation kind), and what changes per call is a `sql.placeholder`. Building the statement
 * (the query builder, the access rule's SQL) also costs more CPU than running it, so it is built
 * once per viewer object: AuthService hands out one frozen viewer per token and replaces it at each
 * token check, so a statement never outlives the rights it was built for, and the WeakMaps let it
 * go with the viewer. PGlite ignores the name and runs the query as an unprepared one would.
 */
export function perViewer<D extends object, V extends object, Q>(build: (db: D, viewer: V) => Q) {
  const byDb = new WeakMap<D, WeakMap<V, Q>>();
  return (db: D, viewer: V): Q => {
    let mine = byDb.get(db);
    if (!mine) byDb.set(db, (mine = new WeakMap()));
    let q = mine.get(viewer);
    if (!q) mine.set(viewer, (q = build(db, viewer)));
    return q;
  };
}

/**
 * `column = any($ids::uuid[])` with the ids bound as one array parameter (the placeholder `ids`,
 * filled by `uuidList`), so the statement's text does not change with the number of keys.
 */
export const inUuids = (column: AnyColumn): SQL => sql`${column} = any(${sql.placeholder("ids")}::uuid[])`;

/** The value for `inUuids`'s placeholder: `{a,b,c}` (uuids never need quoting). */
export const uuidList = (ids: readonly string[]) => ({ ids: `{${ids.join(",")}}` });

/**
 * Runs a prepared query (both drivers' have `all`) and returns its rows as the driver hands them
 * over: keyed by column name, timestamps as text, no per-row mapping. For the few statements whose
 * rows are many and whose mapping the caller does by hand: drizzle's generic one checks each
 * column's kind per value, and was ~8 % of the CPU of a page of 100 assessments with their
 * histories (4,000 revision rows).
 */
export const unmappedRows = <R>(prepared: object, values: Record<string, unknown>): Promise<R[]> =>
  (prepared as { all(values: Record<string, unknown>): Promise<R[]> }).all(values);
