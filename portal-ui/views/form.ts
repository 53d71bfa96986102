import type { Json } from '../api.js';
import { h, render } from '../dom.js';
import { type Context, checkboxGroup, checkedValues, field, formError, link, loading, parseFilter, pretty, secretPanel, showErrors } from '../ui.js';
import { loadCatalog } from './catalog.js';

/**
 * The endpoint form, for create (with the API version) and for edit. `submit` gets the body to send;
 * it answers with the API's error, shown beside the fields, or null when done.
 */
export function endpointForm(
  ctx: Context,
  catalog: { types: string[]; versions: string[]; current: string | null },
  initial: Json | null,
  submitLabel: string,
  submit: (body: Json, form: HTMLFormElement) => Promise<void>,
): HTMLFormElement {
  const { api } = ctx;
  const url = h('input', { type: 'url', name: 'url', required: true, autocomplete: 'off', value: initial ? String(initial.url) : '' });
  const description = h('input', { type: 'text', name: 'description', maxlength: 200, value: initial?.description ? String(initial.description) : '' });
  const filter = h('textarea', { name: 'filter', rows: 3, class: 'mono' });
  filter.value = initial?.filter ? pretty(initial.filter) : '';
  const version = initial
    ? null
    : h('select', { name: 'api_version' }, catalog.versions.map((v) => h('option', { value: v, selected: v === catalog.current }, v)));
  const form = h(
    'form',
    { novalidate: true },
    field('Endpoint URL', url, 'url'),
    checkboxGroup('Event types', 'events', catalog.types, (initial?.events as string[] | undefined) ?? []),
    field('Description', description, 'description', 'Optional, at most 200 characters.'),
    field('Filter', filter, 'filter', 'Optional: a JSON object of attributes an event must match, e.g. {"agentId": "agt_1"}.'),
    version ? field('API version', version, api.name('apiVersion')) : null,
    formError(),
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, submitLabel)),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const parsed = parseFilter(filter.value);
    if (!parsed.ok) {
      showErrors(form, { status: 422, code: 'VALIDATION_FAILED', message: 'Check the highlighted fields.', details: { filter: 'must be a JSON object' } });
      return;
    }
    const body: Json = { url: url.value.trim(), events: checkedValues(form, 'events'), description: description.value };
    if (initial) body.filter = parsed.value;
    else if (parsed.value) body.filter = parsed.value;
    if (version && version.value) body[api.name('apiVersion')] = version.value;
    void submit(body, form);
  });
  return form;
}

export async function createView(ctx: Context): Promise<void> {
  loading(ctx, 'Add endpoint');
  const catalog = await loadCatalog(ctx);
  if (!catalog) return render(ctx.view, h('h1', {}, 'Add endpoint'), h('p', { class: 'alert', role: 'alert' }, 'The event catalog could not be loaded.'));
  const form = endpointForm(ctx, catalog, null, 'Create endpoint', async (body, form) => {
    const result = await ctx.api.request('POST', 'webhooks', body);
    if (!result.ok) return showErrors(form, result.error);
    const id = String(result.data.id);
    render(
      ctx.view,
      h('h1', {}, 'Endpoint created'),
      h('p', { class: 'url' }, String(result.data.url)),
      secretPanel(String(result.data.secret)),
      h('p', {}, link(`#/endpoints/${encodeURIComponent(id)}`, 'Go to the endpoint')),
    );
    ctx.announce('Endpoint created. Copy its secret now.');
  });
  render(ctx.view, h('h1', {}, 'Add endpoint'), form);
}

