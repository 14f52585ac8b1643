import { inArray } from "drizzle-orm";
import type { Db } from "../../db/client";
import { organizations } from "../access/access.table";
import { ONWARD_SHARABLE, type Tlp } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { identityFor, tlp2MarkingDefinition } from "./stix";

/**
 * What the parts of one STIX export (indicators, assessments, incidents) share: who it is for,
 * which TLP levels it may carry (with `onwardSharing`, AMBER_STRICT and RED stay out), and which
 * identities, marking definitions and objects are in the bundle already, so each goes in once.
 */
export class StixExportScope {
  /** The TLP levels the export may carry; null for all the viewer may see. */
  readonly levels: Tlp[] | null;
  private readonly orgs = new Set<string>();
  private readonly markings = new Set<Tlp>();
  private readonly objects = new Set<string>();

  constructor(
    readonly db: Db,
    readonly viewer: ViewerIdentity,
    onwardSharing: boolean,
  ) {
    this.levels = onwardSharing ? [...ONWARD_SHARABLE] : null;
  }

  /** Whether a record with this marking may go into the export (the access rule is the caller's query's). */
  allows(tlp: Tlp): boolean {
    return !this.levels || this.levels.includes(tlp);
  }

  /** The owner identities of these organisations not in the bundle yet (one statement for all). */
  async *identities(orgIds: Iterable<string>): AsyncIterable<object> {
    const fresh = [...new Set(orgIds)].filter((id) => !this.orgs.has(id));
    if (!fresh.length) return;
    for (const o of await this.db.select().from(organizations).where(inArray(organizations.id, fresh))) {
      this.orgs.add(o.id);
      yield identityFor({ id: o.id, name: o.name, kind: o.kind, createdAt: o.createdAt });
    }
  }

  /** The TLP 2.0 marking definition for a level, the first time it is used. */
  *marking(tlp: Tlp): Iterable<object> {
    if (this.markings.has(tlp)) return;
    this.markings.add(tlp);
    yield tlp2MarkingDefinition(tlp);
  }

  /** True the first time an object id is offered: it goes in; false after (already there). */
  once(stixId: string): boolean {
    if (this.objects.has(stixId)) return false;
    this.objects.add(stixId);
    return true;
  }
}
