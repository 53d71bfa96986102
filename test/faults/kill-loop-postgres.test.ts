import { describePostgres, testSchema } from '../support/postgres-test-db.js';
import { killLoopScenario } from './kill-loop-scenario.js';

describePostgres('kill -9 loop: Postgres', (url) => {
  killLoopScenario(() => ({ kind: 'postgres', url, schema: testSchema('kill_loop') }));
});
