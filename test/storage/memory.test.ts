import { memoryStorage } from '../../src/storage/memory.js';
import { describeStorageConformance } from './conformance.js';

describeStorageConformance('memory', async () => {
  const storage = memoryStorage();
  await storage.migrate();
  return { storage, close: () => storage.close() };
});
