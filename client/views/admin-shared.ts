import { msg } from '@lit/localize';
import { type ReactiveControllerHost, css, html, nothing } from 'lit';
import { errorText } from '../services/errors.js';
import type { Loader } from '../services/loader.js';

/** Layout shared by the admin pages: editor card, responsive tables (cards on a phone). */
export const adminStyles = css`
  .head {
    margin-bottom: 0.75rem;
  }
  .head h1 {
    margin: 0;
  }
  form.editor {
    margin-bottom: 1.25rem;
    display: grid;
    gap: 1rem;
    border-top: 4px solid var(--ec-primary);
  }
  form.editor h2 {
    margin: 0;
  }
  .grid {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(220px, 1fr));
    gap: 1rem;
  }
  .table-card {
    padding: 0.25rem 0.75rem;
    overflow-x: auto;
  }
  td.actions {
    text-align: right;
    white-space: nowrap;
  }
  td.actions button {
    margin-left: 0.25rem;
  }
  tr.inactive td {
    color: var(--ec-muted);
  }
  td small {
    display: block;
    color: var(--ec-muted);
  }
  @media (max-width: 700px) {
    thead {
      display: none;
    }
    tr {
      display: block;
      padding: 0.6rem 0;
      border-bottom: 1px solid var(--ec-border);
    }
    td {
      display: flex;
      gap: 0.75rem;
      border: 0;
      padding: 0.2rem 0;
    }
    td[data-label]::before {
      content: attr(data-label);
      color: var(--ec-muted);
      min-width: 7rem;
      font-size: 0.9rem;
    }
    td.actions {
      justify-content: flex-end;
      flex-wrap: wrap;
      white-space: normal;
    }
  }
`;

/**
 * The confirmation or error an admin view shows above its list. `text` is called at render time, so
 * a language switch re-translates a message already on screen.
 */
export type AdminMessage = { kind: 'error' | 'ok'; text: () => string };

export function renderAdminMessage(m: AdminMessage | null) {
  return m ? html`<p class=${m.kind} role=${m.kind === 'ok' ? 'status' : 'alert'}>${m.text()}</p>` : nothing;
}

/**
 * The list part of an admin page, from its loader: the load error with a retry, the spinner, a card
 * with the `empty` text when `items` picks nothing from the loaded value, else `list(items)`.
 */
export function renderAdminList<V, T>(loader: Loader<V>, view: { items: (value: V) => T[]; empty: () => string; list: (items: T[]) => unknown }) {
  if (loader.error)
    return html`<p class="error" role="alert">${msg('Không tải được dữ liệu.', { id: 'editor.loadFailed' })} <button @click=${() => void loader.load({ keepValue: true })}>${msg('Thử lại', { id: 'app.retry' })}</button></p>`;
  if (loader.value === undefined) return html`<div class="state" role="status"><span class="spinner"></span> ${msg('Đang tải…', { id: 'app.loading' })}</div>`;
  const items = view.items(loader.value);
  if (!items.length) return html`<div class="card state">${view.empty()}</div>`;
  return view.list(items);
}

/**
 * The changes an admin page sends (save, deactivate, reset a password), one at a time: `busy` while
 * one runs, then its confirmation or its error (`message`, shown above the list) and the list reloaded
 * in place.
 */
export class AdminChanges {
  busy = false;
  message: AdminMessage | null = null;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly reload: () => Promise<void>,
  ) {}

  /** Shows a message (or none) outside a change, e.g. when a form opens. */
  say(message: AdminMessage | null): void {
    this.message = message;
    this.host.requestUpdate();
  }

  /** Sends `change`; on success runs `done` (close the form), shows `ok` if given and reloads the list. */
  async run(change: () => Promise<unknown>, then: { ok?: () => string; done?: () => void } = {}): Promise<void> {
    this.busy = true;
    this.say(null);
    try {
      await change();
      then.done?.();
      if (then.ok) this.message = { kind: 'ok', text: then.ok };
      await this.reload();
    } catch (err) {
      this.message = { kind: 'error', text: () => errorText(err, 'admin') };
    } finally {
      this.busy = false;
      this.host.requestUpdate();
    }
  }
}
