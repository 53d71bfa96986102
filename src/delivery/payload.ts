import type { WebhookEvent } from '../model.js';

/** The event type of `sendTestEvent`: always deliverable, whatever the catalog and subscriptions say. */
export const TEST_EVENT_TYPE = 'webhook.test';

/** The exact request body: `{ id, type, data, createdAt }`, the same bytes on every attempt. */
export function serializeEvent(event: Pick<WebhookEvent, 'id' | 'type' | 'data' | 'createdAt'>): string {
  return JSON.stringify({ id: event.id, type: event.type, data: event.data, createdAt: event.createdAt.toISOString() });
}
