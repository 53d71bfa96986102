import type { Json } from '../api.js';
import { h, render } from '../dom.js';
import { type Context, errorBox, loading } from '../ui.js';

/** The catalog as the API lists it (each type, and the schema when the API gives one). */
export async function catalogView(ctx: Context): Promise<void> {
  loading(ctx, 'Event types');
  const result = await ctx.api.request('GET', 'event-types');
  if (!result.ok) return render(ctx.view, h('h1', {}, 'Event types'), errorBox(result.error));
  const types = result.data.data as Json[];
  const versions = ctx.api.get<Json | undefined>(result.data, 'apiVersions');
  render(
    ctx.view,
    h('h1', {}, 'Event types'),
    h(
      'ul',
      { class: 'cards' },
      types.map((t) => h('li', { class: 'card' }, h('h2', { class: 'mono' }, String(t.type)), t.schema === undefined ? null : h('pre', {}, JSON.stringify(t.schema, null, 2)))),
    ),
    versions ? h('p', { class: 'muted' }, `API versions: ${(versions.supported as string[]).join(', ')} (current ${String(versions.current)})`) : null,
  );
}

/** The event type names and API versions, for the endpoint forms. */
export async function loadCatalog(ctx: Context): Promise<{ types: string[]; versions: string[]; current: string | null } | null> {
  const result = await ctx.api.request('GET', 'event-types');
  if (!result.ok) return null;
  const versions = ctx.api.get<Json | undefined>(result.data, 'apiVersions');
  const deprecated = (versions?.deprecated as string[] | undefined) ?? [];
  return {
    types: (result.data.data as Json[]).map((t) => String(t.type)),
    versions: ((versions?.supported as string[] | undefined) ?? []).filter((v) => !deprecated.includes(v)),
    current: typeof versions?.current === 'string' ? versions.current : null,
  };
}
