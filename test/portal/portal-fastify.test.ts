import { mountFastify } from './harness.js';
import { portalSuite } from './portal-scenario.js';

portalSuite('Fastify', mountFastify);
