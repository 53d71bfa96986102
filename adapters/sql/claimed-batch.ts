import type { ClaimedDelivery } from '../../src/storage/storage.js';
import { deliveryFromRow, type DeliveryRow, type EndpointRow, endpointFromRow, type EventRow, eventFromRow } from './rows.js';

/**
 * Pairs claimed delivery rows with their event and endpoint rows. A delivery whose event or
 * endpoint row is missing is an orphan: returned by id, for the caller to cancel.
 */
export function assembleClaims(
  rows: DeliveryRow[],
  events: EventRow[],
  endpoints: EndpointRow[],
  leaseToken: string,
): { claimed: ClaimedDelivery[]; orphans: string[] } {
  const eventById = new Map(events.map((e) => [e.id, eventFromRow(e)]));
  const endpointById = new Map(endpoints.map((e) => [e.id, endpointFromRow(e)]));
  const claimed: ClaimedDelivery[] = [];
  const orphans: string[] = [];
  // Each claim gets objects of its own; the first user of a row's object takes it as it is,
  // only later ones a copy (an event usually has one delivery in a batch, so is never cloned).
  const handedOut = new Set<object>();
  const own = <T extends object>(value: T): T => {
    if (!handedOut.has(value)) {
      handedOut.add(value);
      return value;
    }
    return structuredClone(value);
  };
  for (const row of rows) {
    const event = eventById.get(row.event_id);
    const endpoint = endpointById.get(row.endpoint_id);
    if (!event || !endpoint) {
      orphans.push(row.id);
      continue;
    }
    claimed.push({ delivery: deliveryFromRow(row), event: own(event), endpoint: own(endpoint), leaseToken });
  }
  return { claimed, orphans };
}
