import type { Api, ApiError, Json } from './api.js';
import { type Child, h, render, uid } from './dom.js';

/** What every view gets: the API, the element to draw into, and the page's status line. */
export interface Context {
  api: Api;
  view: HTMLElement;
  /** Says something to screen readers and sighted users alike (the page's `role=status` line). */
  announce(message: string): void;
  navigate(hash: string): void;
}

export const link = (hash: string, ...children: Child[]): HTMLAnchorElement => h('a', { href: hash }, ...children);

export function statusBadge(status: unknown): HTMLElement {
  const text = typeof status === 'string' ? status : 'unknown';
  return h('span', { class: `badge badge-${/^[a-z]+$/.test(text) ? text : 'unknown'}` }, text);
}

/** An error the API answered, as a visible alert. */
export function errorBox(error: ApiError): HTMLElement {
  const text = error.status === 404 ? 'Not found.' : error.message;
  return h('p', { class: 'alert', role: 'alert' }, text, error.status === 404 ? null : ` (${error.code})`);
}

export function loading(ctx: Context, title: string): void {
  render(ctx.view, h('h1', {}, title), h('p', { class: 'muted' }, 'Loading…'));
}

/** A labelled control with its error slot, keyed by the wire name of the field it edits. */
export function field(label: string, control: HTMLElement, wireName: string, hint?: string): HTMLElement {
  const id = control.id || uid('f');
  control.id = id;
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  return h(
    'div',
    { class: 'field', 'data-field': wireName },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errorId }),
  );
}

/** A group of checkboxes (the event types), labelled by a legend, with its error slot. */
export function checkboxGroup(legend: string, wireName: string, options: readonly string[], checked: readonly string[]): HTMLFieldSetElement {
  const errorId = uid('events-error');
  return h(
    'fieldset',
    { class: 'field', 'data-field': wireName, 'aria-describedby': errorId },
    h('legend', {}, legend),
    h(
      'div',
      { class: 'checks' },
      options.map((option) => {
        const id = uid('ev');
        return h('div', { class: 'check' }, h('input', { type: 'checkbox', id, name: wireName, value: option, checked: checked.includes(option) }), h('label', { for: id }, option));
      }),
    ),
    h('p', { class: 'field-error', id: errorId }),
  );
}

export function checkedValues(form: HTMLFormElement, name: string): string[] {
  return [...form.querySelectorAll<HTMLInputElement>(`input[type=checkbox][name="${name}"]`)].filter((c) => c.checked).map((c) => c.value);
}

/**
 * Shows a 422's `details` beside their fields (`events.0` belongs to `events`); details naming no
 * field on the form, and any other error, go to the form's own alert.
 */
export function showErrors(form: HTMLFormElement, error: ApiError | null): void {
  for (const slot of form.querySelectorAll('.field-error')) slot.textContent = '';
  for (const control of form.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid');
  const general = form.querySelector('.form-error') as HTMLElement;
  render(general);
  if (!error) return;
  const leftover: string[] = [];
  let first: HTMLElement | null = null;
  for (const [key, reason] of Object.entries(error.details)) {
    const name = key.split(/[.[]/)[0] as string;
    const holder = [...form.querySelectorAll<HTMLElement>('[data-field]')].find((el) => el.dataset.field === name);
    if (!holder) {
      leftover.push(`${key}: ${String(reason)}`);
      continue;
    }
    const slot = holder.querySelector('.field-error') as HTMLElement;
    slot.textContent = slot.textContent ? `${slot.textContent}; ${String(reason)}` : String(reason);
    const control = holder.querySelector<HTMLElement>('input, textarea, select');
    control?.setAttribute('aria-invalid', 'true');
    first ??= control;
  }
  if (leftover.length || !Object.keys(error.details).length) {
    render(general, h('p', { class: 'alert', role: 'alert' }, error.message, leftover.length ? h('ul', {}, leftover.map((line) => h('li', {}, line))) : null));
  }
  first?.focus();
}

export const formError = (): HTMLElement => h('div', { class: 'form-error' });

/**
 * Asks before a destructive action, in a modal `<dialog>` (focus moves into it and Escape cancels).
 * Resolves true only when the confirming button was pressed.
 */
export function confirmAction(title: string, message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title),
      h('p', {}, message),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close('cancel') }, 'Cancel'),
        h('button', { type: 'button', class: 'danger', onclick: () => dialog.close('confirm') }, confirmLabel),
      ),
    );
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'confirm');
    });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

/** A new secret: shown once, with a copy button and the warning that it will not be shown again. */
export function secretPanel(secret: string): HTMLElement {
  const id = uid('secret');
  const input = h('input', { id, type: 'text', readonly: true, value: secret, class: 'mono', spellcheck: 'false' });
  const copied = h('span', { class: 'muted', role: 'status' });
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(secret);
      copied.textContent = 'Copied.';
    } catch {
      input.select();
      copied.textContent = 'Select the text and copy it.';
    }
  };
  return h(
    'section',
    { class: 'secret', 'aria-labelledby': `${id}-title` },
    h('h2', { id: `${id}-title` }, 'Signing secret'),
    h('p', { class: 'warning' }, 'Copy this secret now: it is shown only once and cannot be read again.'),
    h('label', { for: id }, 'Secret'),
    h('div', { class: 'row' }, input, h('button', { type: 'button', onclick: copy }, 'Copy secret')),
    copied,
  );
}

/** A JSON value for display (in a `<pre>`, as text). */
export const pretty = (value: unknown): string => JSON.stringify(value, null, 2) ?? String(value);

/** The filter textarea's value as the API wants it: an object, null (no filter) or a parse error. */
export function parseFilter(text: string): { ok: true; value: Json | null } | { ok: false } {
  if (text.trim() === '') return { ok: true, value: null };
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? { ok: true, value: value as Json } : { ok: false };
  } catch {
    return { ok: false };
  }
}
