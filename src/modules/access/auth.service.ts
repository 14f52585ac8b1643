import DataLoader from "dataloader";
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { unauthenticated } from "../../shared/errors";
import { accounts, apiTokens, organizations, sharingGroupMembers, sharingGroups } from "./access.table";
import { bearerToken, hashToken, isWellFormedToken } from "./tokens";
import type { ViewerIdentity } from "./viewer";
import { toAccount, toOrganization } from "./access.mappers";
import type { RoleValue } from "./access.enums";
import type { OrganizationKind } from "./tlp";

interface CacheEntry {
  viewer: ViewerIdentity | null;
  until: number;
}
const MAX_CACHE = 50_000;

/**
 * Resolves `Authorization: Bearer <token>` (HTTP) or `connectionParams.authorization` (WebSocket)
 * to a viewer. Results, including misses, are cached for `cacheMs` (at most a second), so a warm
 * token costs no database round trip while revocations and membership changes reach every node
 * within that time.
 */
export class AuthService {
  private cache = new Map<string, CacheEntry>();
  /** Loads in flight: requests that find an entry missing or expired share one query. */
  private loading = new Map<string, Promise<CacheEntry>>();
  /** Bumped by forget(): a load that started before it must not refill the cache. */
  private generation = 0;

  /**
   * Token checks that miss the cache in the same tick go to the database as one query: the
   * periodic re-check of every open WebSocket costs one statement, not one per socket.
   */
  private readonly batch = new DataLoader<string, ViewerIdentity | null>((hashes) => this.loadMany(hashes), {
    cache: false,
    maxBatchSize: 1000,
  });

  constructor(
    private readonly db: Db,
    private readonly cacheMs: number,
  ) {}

  /** undefined header: anonymous (null). Any unusable token: UNAUTHENTICATED, one message for all. */
  async authenticate(header: string | undefined | null): Promise<ViewerIdentity | null> {
    const token = bearerToken(header);
    if (token === undefined) return null;
    if (token === null || !isWellFormedToken(token)) throw unauthenticated();
    const hash = hashToken(token);
    const now = Date.now();
    let entry = this.cache.get(hash);
    if (!entry || entry.until <= now)
      entry = this.cacheMs > 0 ? await this.refresh(hash, now) : { viewer: await this.load(hash), until: now };
    const v = entry.viewer;
    if (!v || (v.tokenExpiresAt && v.tokenExpiresAt.getTime() <= now)) throw unauthenticated();
    return v;
  }

  /** Drops cached entries on this node at once (other nodes follow within cacheMs). */
  forget(): void {
    this.cache.clear();
    this.loading.clear();
    this.generation++;
  }

  /**
   * Loads and caches one token's entry. Every request that arrives while the load is in flight
   * waits for that same load, so an expiry under load costs one query, not one per request.
   */
  private refresh(hash: string, now: number): Promise<CacheEntry> {
    let pending = this.loading.get(hash);
    if (!pending) {
      const generation = this.generation;
      pending = this.load(hash)
        .then((viewer) => {
          const entry = { viewer, until: now + this.cacheMs };
          if (generation === this.generation) {
            if (this.cache.size >= MAX_CACHE) this.cache.clear();
            this.cache.set(hash, entry);
          }
          return entry;
        })
        .finally(() => {
          if (this.loading.get(hash) === pending) this.loading.delete(hash);
        });
      this.loading.set(hash, pending);
    }
    return pending;
  }

  private load(hash: string): Promise<ViewerIdentity | null> {
    return this.batch.load(hash);
  }

  private async loadMany(hashes: readonly string[]): Promise<(ViewerIdentity | null)[]> {
    const rows = await this.db
      .select({
        tokenId: apiTokens.id,
        tokenHash: apiTokens.tokenHash,
        expiresAt: apiTokens.expiresAt,
        lastUsedAt: apiTokens.lastUsedAt,
        account: accounts,
        organization: organizations,
        groupIds: sql<string[]>`array(
          select ${sharingGroupMembers.groupId} from ${sharingGroupMembers}
            where ${sharingGroupMembers.organizationId} = ${organizations.id}
          union
          select ${sharingGroups.id} from ${sharingGroups} where ${sharingGroups.ownerOrgId} = ${organizations.id})`,
      })
      .from(apiTokens)
      .innerJoin(accounts, eq(accounts.id, apiTokens.accountId))
      .innerJoin(organizations, eq(organizations.id, accounts.organizationId))
      .where(
        and(
          hashes.length === 1
            ? eq(apiTokens.tokenHash, hashes[0] as string)
            : inArray(apiTokens.tokenHash, [...hashes]),
          sql`${apiTokens.revokedAt} is null`,
          sql`${accounts.disabledAt} is null`,
        ),
      );
    const stale = rows
      .filter((r) => !r.lastUsedAt || Date.now() - r.lastUsedAt.getTime() > 60_000)
      .map((r) => r.tokenId);
    if (stale.length)
      await this.db
        .update(apiTokens)
        .set({ lastUsedAt: new Date() })
        .where(stale.length === 1 ? eq(apiTokens.id, stale[0] as string) : inArray(apiTokens.id, stale));
    const byHash = new Map(rows.map((r) => [r.tokenHash, toViewer(r)]));
    return hashes.map((h) => byHash.get(h) ?? null);
  }
}

function toViewer(r: {
  tokenId: string;
  expiresAt: Date | null;
  account: typeof accounts.$inferSelect;
  organization: typeof organizations.$inferSelect;
  groupIds: string[] | null;
}): ViewerIdentity {
  return Object.freeze({
    accountId: r.account.id,
    role: r.account.role as RoleValue,
    organizationId: r.organization.id,
    organizationKind: r.organization.kind as OrganizationKind,
    // Primed into the request's loaders: `viewer { account organization }` costs no query.
    account: toAccount(r.account),
    organization: toOrganization(r.organization),
    groupIds: Object.freeze(r.groupIds ?? []),
    tokenId: r.tokenId,
    tokenExpiresAt: r.expiresAt,
  });
}
