import { InvalidOptionsError } from '../errors.js';
import type { HttpResponse, WireFormat } from '../http/types.js';
import { type PortalAsset, contentHash, portalAssets } from './assets.js';

/** A custom property of the portal's stylesheet (`--hr-color-accent`…), see docs/portal.md. */
export type PortalThemeProperty = `--hr-${string}`;

export interface PortalOptions {
  /** The page's title and the name in its header. Default `'Webhooks'`. */
  title?: string;
  /** Values for the portal's CSS custom properties, served as a stylesheet loaded after the built one. */
  theme?: Partial<Record<PortalThemeProperty, string>>;
}

/** The portal below a router's mount point: `<mount>/portal/`. */
export interface Portal {
  /** True for paths the portal answers (`/portal` and everything under `/portal/`). */
  owns(path: string): boolean;
  /** Answers a request whose `path` (below the mount point) the portal owns. */
  handle(method: string, path: string): HttpResponse;
}

export const PORTAL_PREFIX = '/portal';

/**
 * Sent with every portal response. The page has no inline script or style, loads nothing from
 * another origin, and may be framed only by its own origin.
 */
export const PORTAL_CSP = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

const IMMUTABLE = 'public, max-age=31536000, immutable';
const THEME_NAME = /^--hr-[a-z0-9-]{1,60}$/;
// Enough for colours, font stacks and lengths; nothing that could end the declaration or the rule.
const THEME_VALUE = /^[^;{}<>\\]{1,200}$/;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function validatePortalOptions(options: unknown): { title: string; themeCss: string | null } {
  const value = (options === true ? {} : options) as PortalOptions;
  const issues: { option: string; message: string }[] = [];
  if (typeof value !== 'object' || value === null) throw new InvalidOptionsError([{ option: 'portal', message: 'must be true or an object { title?, theme? }' }]);
  const title = value.title ?? 'Webhooks';
  if (typeof title !== 'string' || title.length === 0 || title.length > 100) issues.push({ option: 'portal.title', message: 'must be a string of 1 to 100 characters' });
  let themeCss: string | null = null;
  if (value.theme !== undefined) {
    const entries = typeof value.theme === 'object' && value.theme !== null ? Object.entries(value.theme) : null;
    if (!entries) issues.push({ option: 'portal.theme', message: 'must be an object of CSS custom properties' });
    for (const [name, property] of entries ?? []) {
      if (!THEME_NAME.test(name)) issues.push({ option: `portal.theme.${name.slice(0, 60)}`, message: 'must be a custom property named --hr-…' });
      else if (typeof property !== 'string' || !THEME_VALUE.test(property)) issues.push({ option: `portal.theme.${name}`, message: 'must be a CSS value without ; { } < > or \\' });
    }
    if (entries?.length) themeCss = `:root{${entries.map(([name, property]) => `${name}:${String(property)}`).join(';')}}\n`;
  }
  if (issues.length) throw new InvalidOptionsError(issues);
  return { title, themeCss };
}

function response(status: number, headers: Record<string, string>, body: string): HttpResponse {
  return {
    status,
    headers: {
      'content-security-policy': PORTAL_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cross-origin-resource-policy': 'same-origin',
      ...headers,
    },
    body,
  };
}

const text = (status: number, message: string, extra: Record<string, string> = {}): HttpResponse =>
  response(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...extra }, message);

/**
 * The portal's server side, framework-free like the REST handler: the adapters mount it beside the
 * API when given `portal`. It serves one HTML page (never cached long: it names the current asset
 * files) and the hashed assets it loads (cached for a year). The page calls the API it sits under.
 */
export function createPortal(options: PortalOptions | true, format: WireFormat): Portal {
  const { title, themeCss } = validatePortalOptions(options);
  const assets = portalAssets();
  const files = new Map<string, PortalAsset>(assets.files);
  const themeName = themeCss ? `theme-${contentHash(themeCss)}.css` : null;
  if (themeName && themeCss) files.set(themeName, { body: themeCss, contentType: 'text/css; charset=utf-8' });
  const stylesheets = [assets.stylesheet, themeName].filter((name): name is string => name !== null);
  const index = [
    '<!doctype html>',
    `<html lang="en" data-format="${escapeHtml(format)}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    ...stylesheets.map((name) => `<link rel="stylesheet" href="assets/${name}">`),
    `<script type="module" src="assets/${assets.script}"></script>`,
    '</head>',
    '<body><div id="portal"><noscript>The webhook portal needs JavaScript.</noscript></div></body>',
    '</html>',
    '',
  ].join('\n');

  function owns(path: string): boolean {
    return path === PORTAL_PREFIX || path.startsWith(`${PORTAL_PREFIX}/`);
  }

  function handle(method: string, path: string): HttpResponse {
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'method not allowed', { allow: 'GET, HEAD' });
    // Relative, so it is right under any mount point: `<mount>/portal` → `<mount>/portal/`.
    if (path === PORTAL_PREFIX) return response(308, { location: 'portal/', 'cache-control': 'no-store' }, '');
    if (path === `${PORTAL_PREFIX}/` || path === `${PORTAL_PREFIX}/index.html`) {
      return response(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }, index);
    }
    const name = path.startsWith(`${PORTAL_PREFIX}/assets/`) ? path.slice(`${PORTAL_PREFIX}/assets/`.length) : null;
    const asset = name === null ? undefined : files.get(name);
    if (!asset) return text(404, 'not found');
    return response(200, { 'content-type': asset.contentType, 'cache-control': IMMUTABLE }, asset.body);
  }

  return { owns, handle };
}

/** The portal a router's options ask for, or null (the default: no portal). */
export function portalFor(options: { portal?: boolean | PortalOptions; format?: WireFormat }): Portal | null {
  if (options.portal === undefined || options.portal === false) return null;
  return createPortal(options.portal, options.format ?? 'snake_case');
}
