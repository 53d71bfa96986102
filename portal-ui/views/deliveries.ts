import type { Json } from '../api.js';
import { formatTime, h, render, toLocalInput } from '../dom.js';
import { type Context, errorBox, field, formError, link, showErrors, statusBadge } from '../ui.js';

const STATUSES = ['pending', 'held', 'succeeded', 'failed', 'cancelled'];
const REPLAY_STATUSES = ['succeeded', 'failed', 'cancelled'];

/** A `datetime-local` value as an ISO instant, or null when empty. */
const instant = (value: string): string | null => (value ? new Date(value).toISOString() : null);

const select = (name: string, options: readonly string[], anyLabel: string): HTMLSelectElement =>
  h('select', { name }, h('option', { value: '' }, anyLabel), options.map((o) => h('option', { value: o }, o)));

/** The paged delivery log of one endpoint, filtered by status and time range. */
export function deliveriesSection(ctx: Context, endpointId: string): { element: HTMLElement; reload(): Promise<void> } {
  const { api } = ctx;
  const status = select('status', STATUSES, 'Any status');
  const since = h('input', { type: 'datetime-local', name: 'since' });
  const until = h('input', { type: 'datetime-local', name: 'until' });
  const filters = h(
    'form',
    { class: 'filters', 'aria-label': 'Delivery filters' },
    field('Status', status, 'status'),
    field('From', since, 'since'),
    field('Until', until, 'until'),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Apply filters')),
  );
  const list = h('ul', { class: 'deliveries', 'aria-label': 'Deliveries' });
  const more = h('div', {});

  const loadPage = async (cursor: string | null): Promise<void> => {
    const path = api.query(`webhooks/${encodeURIComponent(endpointId)}/deliveries`, {
      status: status.value,
      since: instant(since.value),
      until: instant(until.value),
      limit: '20',
      cursor,
    });
    const result = await api.request('GET', path);
    if (!result.ok) {
      showErrors(filters, result.error);
      return;
    }
    showErrors(filters, null);
    if (!cursor) list.replaceChildren();
    const page = result.data.data as Json[];
    if (!page.length && !cursor) list.appendChild(h('li', { class: 'empty' }, 'No deliveries.'));
    for (const delivery of page) {
      const code = api.get<number | null>(delivery, 'lastStatusCode');
      list.appendChild(
        h(
          'li',
          {},
          link(`#/endpoints/${encodeURIComponent(endpointId)}/deliveries/${encodeURIComponent(String(delivery.id))}`, String(api.get(delivery, 'eventType'))),
          ' ',
          statusBadge(delivery.status),
          h('span', { class: 'muted' }, ` ${formatTime(api.get(delivery, 'createdAt'))} · ${String(api.get(delivery, 'attemptCount'))} attempt(s)${code === null ? '' : ` · HTTP ${code}`}`),
        ),
      );
    }
    const next = api.get<string | null>(result.data, 'nextCursor');
    render(more, next ? h('button', { type: 'button', class: 'secondary', onclick: () => void loadPage(next) }, 'Load more deliveries') : null);
  };
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    void loadPage(null);
  });
  const element = h('section', { 'aria-labelledby': 'deliveries-title' }, h('h2', { id: 'deliveries-title' }, 'Deliveries'), filters, list, more);
  return { element, reload: () => loadPage(null) };
}

/** Replays the endpoint's finished deliveries created since a date. */
export function replaySection(ctx: Context, endpointId: string, after: () => Promise<void>): HTMLElement {
  const since = h('input', { type: 'datetime-local', name: 'since', required: true, value: toLocalInput(new Date(Date.now() - 24 * 3600_000)) });
  const status = select('status', REPLAY_STATUSES, 'Any finished status');
  const result = h('p', { role: 'status' });
  const form = h(
    'form',
    { novalidate: true },
    field('Replay deliveries since', since, 'since'),
    field('Only deliveries that', status, 'status'),
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Replay')),
    result,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body: Json = { since: instant(since.value) };
    if (status.value) body.status = status.value;
    const answer = await ctx.api.request('POST', `webhooks/${encodeURIComponent(endpointId)}/replay`, body);
    if (!answer.ok) return showErrors(form, answer.error);
    showErrors(form, null);
    result.textContent = `${String(answer.data.replayed)} deliveries replayed.`;
    await after();
  });
  return h('section', { 'aria-labelledby': 'replay-title' }, h('h2', { id: 'replay-title' }, 'Replay'), form);
}

/** One delivery with its attempts (status code, duration, error, response excerpt) and a retry button. */
export async function deliveryView(ctx: Context, endpointId: string, deliveryId: string): Promise<void> {
  const { api } = ctx;
  const back = h('p', {}, link(`#/endpoints/${encodeURIComponent(endpointId)}`, '← Endpoint'));
  const path = `webhooks/${encodeURIComponent(endpointId)}/deliveries/${encodeURIComponent(deliveryId)}`;
  const result = await api.request('GET', path);
  if (!result.ok) return render(ctx.view, back, h('h1', {}, result.error.status === 404 ? 'Delivery not found' : 'Delivery'), errorBox(result.error));
  const delivery = result.data;
  const notice = h('div', { class: 'notice' });
  const retry = async (): Promise<void> => {
    const answer = await api.request('POST', `${path}/retry`);
    if (!answer.ok) return render(notice, errorBox(answer.error));
    ctx.announce('Delivery queued again.');
    await deliveryView(ctx, endpointId, deliveryId);
  };
  const attempts = delivery.attempts as Json[];
  render(
    ctx.view,
    back,
    h('h1', {}, String(api.get(delivery, 'eventType'))),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Status'),
      h('dd', {}, statusBadge(delivery.status)),
      h('dt', {}, 'Delivery'),
      h('dd', { class: 'mono' }, String(delivery.id)),
      h('dt', {}, 'Event'),
      h('dd', { class: 'mono' }, String(api.get(delivery, 'eventId'))),
      h('dt', {}, 'Created'),
      h('dd', {}, formatTime(api.get(delivery, 'createdAt'))),
      h('dt', {}, 'Next attempt'),
      h('dd', {}, formatTime(api.get(delivery, 'nextAttemptAt'))),
    ),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => void retry() }, 'Retry delivery')),
    notice,
    h('h2', {}, 'Attempts'),
    attempts.length
      ? h(
          'ol',
          { class: 'attempts' },
          attempts.map((attempt) => {
            const code = api.get<number | null>(attempt, 'statusCode');
            const error = api.get<string | null>(attempt, 'errorMessage') ?? api.get<string | null>(attempt, 'errorKind');
            const excerpt = api.get<string | null>(attempt, 'responseExcerpt');
            return h(
              'li',
              { class: 'card' },
              h('h3', {}, `Attempt ${String(api.get(attempt, 'attemptNumber'))}: `, code === null ? 'no response' : `HTTP ${code}`),
              h('p', { class: 'muted' }, `${formatTime(api.get(attempt, 'startedAt'))} · ${String(api.get(attempt, 'durationMs'))} ms`),
              error ? h('p', { class: 'attempt-error' }, error) : null,
              excerpt ? h('details', { open: true }, h('summary', {}, 'Response excerpt'), h('pre', { class: 'excerpt' }, excerpt)) : null,
            );
          }),
        )
      : h('p', { class: 'empty' }, 'No attempts yet.'),
  );
}
