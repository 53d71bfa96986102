import { DELIVERY_ROUTES } from './delivery-routes.js';
import { ENDPOINT_ROUTES, type Route } from './routes.js';

export type { Route };

/** Every route of the REST API, in one table: the adapters never add or change one. */
export const ROUTES: readonly Route[] = [...ENDPOINT_ROUTES, ...DELIVERY_ROUTES];
