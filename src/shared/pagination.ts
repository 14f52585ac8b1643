import { sql, type SQL, type AnyColumn } from "drizzle-orm";
import { ArgsType, ClassType, Field, Int, ObjectType } from "type-graphql";
import { badInput } from "./errors";

/** Relay `first`/`after`, as resolvers receive them. */
export interface PageArgs {
  first?: number | null | undefined;
  after?: string | null | undefined;
}

export const DEFAULT_PAGE_SIZE = 50;

@ArgsType()
export class PageArgsInput implements PageArgs {
  @Field(() => Int, {
    nullable: true,
    description: "Page size (default 50); more than MAX_PAGE_SIZE (default 500) is refused.",
  })
  first?: number | null;
  @Field(() => String, { nullable: true, description: "A cursor from a previous page's edges or pageInfo." })
  after?: string | null;
}

@ObjectType({ description: "Relay page information." })
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage: boolean;
  @Field(() => Boolean)
  hasPreviousPage: boolean;
  @Field(() => String, { nullable: true })
  startCursor: string | null;
  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

export interface ConnectionShape<T> {
  edges: { node: T; cursor: string }[];
  pageInfo: PageInfo;
  /** Resolved only when asked for: counts what the same filter (and access rule) lets through. */
  readonly totalCount: Promise<number>;
}

/** Declares `<Name>Connection` and `<Name>Edge` types for a node type. */
export function Connection<T extends object>(node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => node)
    node: T;
    @Field(() => String)
    cursor: string;
  }
  @ObjectType(`${name}Connection`)
  class ConnectionType {
    @Field(() => [Edge])
    edges: Edge[];
    @Field(() => PageInfo)
    pageInfo: PageInfo;
    // A promise (counted only when asked for), so it gets a resolver: plain fields are read
    // synchronously by the compiled executor (src/transport/compiled.ts).
    @Field(() => Int, { description: "Records matching the filter that the viewer may see.", simple: false })
    totalCount: number;
  }
  return ConnectionType;
}

const encodeCursor = (key: readonly unknown[]) => Buffer.from(JSON.stringify(key), "utf8").toString("base64url");

function decodeCursor(cursor: string, width: number): unknown[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(key) && key.length === width && key.every((k) => typeof k === "string" || typeof k === "number"))
      return key;
  } catch {
    // fall through to the error below
  }
  throw badInput("after", "not a cursor this list issued");
}

export interface KeysetPage<Row> {
  args: PageArgs;
  maxPageSize: number;
  /** The ordering columns, ascending; the last must make the order total (an id). */
  orderBy: readonly AnyColumn[];
  /** The values of the ordering columns for a row, as JSON-safe strings or numbers. */
  keyOf: (row: Row) => readonly (string | number)[];
  /** Fetches rows matching `after` (undefined on the first page), in order, up to `limit`. */
  fetch: (after: SQL | undefined, limit: number) => Promise<Row[]>;
  count: () => Promise<number>;
}

/**
 * One keyset paginator for every connection: stable order, opaque cursors, a documented
 * maximum page size (a larger `first` is refused, never silently cut).
 */
export async function paginate<Row>(p: KeysetPage<Row>): Promise<ConnectionShape<Row>> {
  const first = p.args.first ?? Math.min(DEFAULT_PAGE_SIZE, p.maxPageSize);
  if (first < 0) throw badInput("first", "must not be negative");
  if (first > p.maxPageSize) throw badInput("first", `must be at most ${p.maxPageSize} (the maximum page size)`);
  let after: SQL | undefined;
  if (p.args.after) {
    const key = decodeCursor(p.args.after, p.orderBy.length);
    after = sql`(${sql.join([...p.orderBy], sql`, `)}) > (${sql.join(
      key.map((k) => sql`${k}`),
      sql`, `,
    )})`;
  }
  const rows = first === 0 ? [] : await p.fetch(after, first + 1);
  const page = rows.slice(0, first);
  const edges = page.map((node) => ({ node, cursor: encodeCursor(p.keyOf(node)) }));
  let counted: Promise<number> | undefined;
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: Boolean(p.args.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    get totalCount() {
      counted ??= p.count();
      return counted;
    },
  };
}
