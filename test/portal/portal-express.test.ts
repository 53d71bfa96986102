import { mountExpress } from './harness.js';
import { portalSuite } from './portal-scenario.js';

portalSuite('Express', mountExpress);
