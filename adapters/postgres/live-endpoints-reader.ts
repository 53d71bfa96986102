import type { EndpointRow } from '../sql/rows.js';
import { SharedRounds } from '../sql/shared-rounds.js';

/** Orgs per shared endpoint read. */
const MAX_ORGS_PER_READ = 100;

interface QueuedRead {
  orgId: string;
  resolve: (rows: EndpointRow[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Shares the "live endpoints of this org" read among emits that arrive together: with the
 * batched insert, it halves the round trips of a burst of emits. A call's read always starts
 * after the call did, so it never sees an older state than a read of its own.
 */
export class LiveEndpointsReader extends SharedRounds<QueuedRead> {
  constructor(private readonly readMany: (orgIds: string[]) => Promise<EndpointRow[]>) {
    super();
  }

  read(orgId: string): Promise<EndpointRow[]> {
    return new Promise((resolve, reject) => this.enqueue({ orgId, resolve, reject }));
  }

  protected takeRound(): QueuedRead[] {
    // Calls of the same org share one slot: the cap counts orgs, not calls.
    const orgs = new Set<string>();
    let end = 0;
    while (end < this.queue.length) {
      const orgId = (this.queue[end] as QueuedRead).orgId;
      if (!orgs.has(orgId) && orgs.size === MAX_ORGS_PER_READ) break;
      orgs.add(orgId);
      end++;
    }
    return this.queue.splice(0, end);
  }

  protected async runRound(round: QueuedRead[]): Promise<void> {
    try {
      const rows = await this.readMany([...new Set(round.map((call) => call.orgId))]);
      const byOrg = new Map<string, EndpointRow[]>();
      for (const row of rows) {
        const list = byOrg.get(row.org_id);
        if (list) list.push(row);
        else byOrg.set(row.org_id, [row]);
      }
      for (const call of round) call.resolve(byOrg.get(call.orgId) ?? []);
    } catch (error) {
      for (const call of round) call.reject(error);
    }
  }
}
