export { createPortal, portalFor, PORTAL_CSP } from './portal.js';
export type { Portal, PortalOptions, PortalThemeProperty } from './portal.js';
