import { css, html, nothing } from 'lit';

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

