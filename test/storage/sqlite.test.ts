import { openSqliteFileStorage } from '../support/sqlite-file-storage.js';
import { describeStorageConformance } from './conformance.js';

// A real file per test, in WAL mode, as hosts run it.
describeStorageConformance('sqlite', () => openSqliteFileStorage('hookrelay-sqlite-'));
