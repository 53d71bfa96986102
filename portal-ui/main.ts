import { Api, takeToken } from './api.js';
import { h, render } from './dom.js';
import type { Context } from './ui.js';
import { catalogView } from './views/catalog.js';
import { deliveryView } from './views/deliveries.js';
import { detailView } from './views/detail.js';
import { endpointsView } from './views/endpoints.js';
import { createView } from './views/form.js';

/**
 * The portal's entry point. Screens live in the URL fragment (`#/endpoints/<id>`), so the server
 * serves one page and a reload or a shared link opens the same screen.
 */
const root = document.getElementById('portal') as HTMLElement;
const api = new Api(document.documentElement.dataset.format ?? 'snake_case', takeToken());
const status = h('p', { class: 'sr-status', role: 'status', 'aria-live': 'polite' });
const view = h('main', { id: 'main', tabindex: '-1' });
const navLinks = [h('a', { href: '#/' }, 'Endpoints'), h('a', { href: '#/catalog' }, 'Event types')];
render(
  root,
  h('a', { class: 'skip', href: '#main', onclick: (event: Event) => (event.preventDefault(), view.focus()) }, 'Skip to content'),
  h('header', {}, h('p', { class: 'brand' }, document.title), h('nav', { 'aria-label': 'Portal' }, navLinks)),
  view,
  status,
);

const ctx: Context = {
  api,
  view,
  announce(message) {
    status.textContent = '';
    // A new text node after a reset, so screen readers announce a repeated message too.
    setTimeout(() => (status.textContent = message), 30);
  },
  navigate(hash) {
    if (location.hash === hash) void route();
    else location.hash = hash;
  },
};

async function route(): Promise<void> {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map((part) => {
    try {
      return decodeURIComponent(part);
    } catch {
      return part;
    }
  });
  for (const a of navLinks) a.removeAttribute('aria-current');
  const [first, id, sub, deliveryId] = parts;
  if (first === 'catalog') {
    navLinks[1]?.setAttribute('aria-current', 'page');
    return catalogView(ctx);
  }
  navLinks[0]?.setAttribute('aria-current', 'page');
  if (first === 'new') return createView(ctx);
  if (first === 'endpoints' && id && sub === 'deliveries' && deliveryId) return deliveryView(ctx, id, deliveryId);
  if (first === 'endpoints' && id && !sub) return detailView(ctx, id);
  if (!first) return endpointsView(ctx);
  render(view, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to endpoints')));
}

window.addEventListener('hashchange', () => {
  void route().then(() => {
    window.scrollTo(0, 0);
    view.focus({ preventScroll: true });
  });
});
void route();
