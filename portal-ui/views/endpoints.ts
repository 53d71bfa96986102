import type { Json } from '../api.js';
import { h, render, formatTime } from '../dom.js';
import { type Context, errorBox, link, loading, statusBadge } from '../ui.js';

/** The list: URL, events, status (with why it is paused) and each endpoint's last delivery. */
export async function endpointsView(ctx: Context): Promise<void> {
  loading(ctx, 'Endpoints');
  const { api } = ctx;
  const list = h('ul', { class: 'cards', 'aria-label': 'Endpoints' });
  const more = h('div', {});
  render(
    ctx.view,
    h('div', { class: 'title-row' }, h('h1', {}, 'Endpoints'), link('#/new', 'Add endpoint')),
    list,
    more,
  );

  const lastDelivery = async (id: string, cell: HTMLElement): Promise<void> => {
    const result = await api.request('GET', api.query(`webhooks/${encodeURIComponent(id)}/deliveries`, { limit: '1' }));
    if (!result.ok) return render(cell, '—');
    const last = (result.data.data as Json[])[0];
    render(cell, last ? [statusBadge(last.status), ' ', formatTime(api.get(last, 'createdAt'))] : 'none yet');
  };

  const loadPage = async (cursor: string | null): Promise<void> => {
    const result = await api.request('GET', api.query('webhooks', { limit: '50', cursor }));
    if (!result.ok) return render(more, errorBox(result.error));
    const endpoints = result.data.data as Json[];
    if (!endpoints.length && !cursor) list.replaceWith(h('p', { class: 'empty' }, 'No endpoints yet.'));
    for (const endpoint of endpoints) {
      const id = String(endpoint.id);
      const last = h('dd', {}, '…');
      const paused = api.get<string | null>(endpoint, 'pausedReason');
      list.appendChild(
        h(
          'li',
          { class: 'card' },
          h('h2', { class: 'url' }, link(`#/endpoints/${encodeURIComponent(id)}`, String(endpoint.url))),
          endpoint.description ? h('p', { class: 'muted' }, String(endpoint.description)) : null,
          h(
            'dl',
            {},
            h('dt', {}, 'Status'),
            h('dd', {}, statusBadge(endpoint.status), paused ? ` (${paused})` : null),
            h('dt', {}, 'Events'),
            h('dd', {}, (endpoint.events as string[]).join(', ')),
            h('dt', {}, 'Last delivery'),
            last,
          ),
        ),
      );
      void lastDelivery(id, last);
    }
    const next = api.get<string | null>(result.data, 'nextCursor');
    render(more, next ? h('button', { type: 'button', class: 'secondary', onclick: () => void loadPage(next) }, 'Load more endpoints') : null);
  };
  await loadPage(null);
}
