import type { Json } from '../api.js';
import { formatTime, h, render } from '../dom.js';
import { type Context, confirmAction, errorBox, loading, pretty, secretPanel, showErrors, statusBadge } from '../ui.js';
import { loadCatalog } from './catalog.js';
import { deliveriesSection, replaySection } from './deliveries.js';
import { endpointForm } from './form.js';

/** One endpoint: its settings, pause and resume, rotate, test event, delete, deliveries and replay. */
export async function detailView(ctx: Context, id: string): Promise<void> {
  loading(ctx, 'Endpoint');
  const { api } = ctx;
  const path = `webhooks/${encodeURIComponent(id)}`;
  const [result, catalog] = await Promise.all([api.request('GET', path), loadCatalog(ctx)]);
  if (!result.ok) {
    render(ctx.view, h('h1', {}, result.error.status === 404 ? 'Endpoint not found' : 'Endpoint'), errorBox(result.error), h('p', {}, h('a', { href: '#/' }, 'Back to endpoints')));
    return;
  }
  const endpoint = result.data;
  const paused = endpoint.status === 'paused';
  const notice = h('div', { class: 'notice' });
  const deliveries = deliveriesSection(ctx, id);

  const act = async (label: string, run: () => Promise<void>): Promise<void> => {
    render(notice, h('p', { class: 'muted' }, `${label}…`));
    await run();
  };
  const setStatus = (status: 'active' | 'paused') =>
    act(status === 'paused' ? 'Pausing' : 'Resuming', async () => {
      const patched = await api.request('PATCH', path, { status });
      if (!patched.ok) return render(notice, errorBox(patched.error));
      ctx.announce(status === 'paused' ? 'Endpoint paused.' : 'Endpoint resumed.');
      await detailView(ctx, id);
    });
  const rotate = async (): Promise<void> => {
    const sure = await confirmAction('Rotate the signing secret?', 'A new secret is created and shown once. The old one keeps signing for a short grace period.', 'Rotate secret');
    if (!sure) return;
    await act('Rotating', async () => {
      const rotated = await api.request('POST', `${path}/rotate`);
      if (!rotated.ok) return render(notice, errorBox(rotated.error));
      render(notice, secretPanel(String(rotated.data.secret)));
      ctx.announce('Secret rotated. Copy the new secret now.');
    });
  };
  const sendTest = () =>
    act('Sending a test event', async () => {
      const sent = await api.request('POST', `${path}/test`);
      if (!sent.ok) return render(notice, errorBox(sent.error));
      const event = sent.data.event as Json;
      render(notice, h('p', { role: 'status' }, `Test event ${String(event.id)} queued.`), h('details', {}, h('summary', {}, 'Event data'), h('pre', {}, pretty(event.data))));
      await deliveries.reload();
    });
  const remove = async (): Promise<void> => {
    const sure = await confirmAction('Delete this endpoint?', `Nothing will be delivered to ${String(endpoint.url)} any more. This cannot be undone.`, 'Delete endpoint');
    if (!sure) return;
    await act('Deleting', async () => {
      const deleted = await api.request('DELETE', path);
      if (!deleted.ok) return render(notice, errorBox(deleted.error));
      ctx.announce('Endpoint deleted.');
      ctx.navigate('#/');
    });
  };

  const pausedReason = api.get<string | null>(endpoint, 'pausedReason');
  const edit = catalog
    ? endpointForm(ctx, catalog, endpoint, 'Save changes', async (body, form) => {
        const patched = await api.request('PATCH', path, body);
        if (!patched.ok) return showErrors(form, patched.error);
        showErrors(form, null);
        ctx.announce('Changes saved.');
        await detailView(ctx, id);
      })
    : h('p', { class: 'alert', role: 'alert' }, 'The event catalog could not be loaded.');

  render(
    ctx.view,
    h('p', {}, h('a', { href: '#/' }, '← Endpoints')),
    h('h1', { class: 'url' }, String(endpoint.url)),
    endpoint.description ? h('p', {}, String(endpoint.description)) : null,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Status'),
      h('dd', {}, statusBadge(endpoint.status), pausedReason ? ` (${pausedReason})` : null),
      h('dt', {}, 'ID'),
      h('dd', { class: 'mono' }, String(endpoint.id)),
      h('dt', {}, 'Events'),
      h('dd', {}, (endpoint.events as string[]).join(', ')),
      h('dt', {}, 'Filter'),
      h('dd', {}, endpoint.filter ? h('code', {}, JSON.stringify(endpoint.filter)) : 'none'),
      h('dt', {}, 'API version'),
      h('dd', {}, String(api.get(endpoint, 'apiVersion'))),
      h('dt', {}, 'Created'),
      h('dd', {}, formatTime(api.get(endpoint, 'createdAt'))),
    ),
    h(
      'div',
      { class: 'actions', role: 'group', 'aria-label': 'Endpoint actions' },
      paused
        ? h('button', { type: 'button', onclick: () => void setStatus('active') }, 'Resume')
        : h('button', { type: 'button', class: 'secondary', onclick: () => void setStatus('paused') }, 'Pause'),
      h('button', { type: 'button', class: 'secondary', onclick: () => void sendTest() }, 'Send test event'),
      h('button', { type: 'button', class: 'secondary', onclick: () => void rotate() }, 'Rotate secret'),
      h('button', { type: 'button', class: 'danger', onclick: () => void remove() }, 'Delete'),
    ),
    notice,
    deliveries.element,
    replaySection(ctx, id, () => deliveries.reload()),
    h('section', { 'aria-labelledby': 'edit-title' }, h('h2', { id: 'edit-title' }, 'Settings'), edit),
  );
  await deliveries.reload();
}
