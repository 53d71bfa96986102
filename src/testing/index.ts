export { manualClock } from './manual-clock.js';
export type { ManualClock } from './manual-clock.js';
export { createTestReceiver } from './test-receiver.js';
export type { ReceivedRequest, ReceiverBehavior, TestReceiver, TestReceiverOptions } from './test-receiver.js';
