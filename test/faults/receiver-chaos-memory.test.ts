import { describe } from 'vitest';
import { memoryStorage } from '../../src/index.js';
import { chaosScenario } from './chaos-scenario.js';

describe('receiver chaos: memory storage', () => {
  chaosScenario('memory', () => memoryStorage());
});
