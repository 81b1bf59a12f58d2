import { css } from 'lit';

/**
 * Styles shared by every view and component: buttons, form fields, cards, badges, states.
 * Use `static override styles = [sharedStyles, css\`…\`]`. Touch first: every control is at least
 * 44px tall (`--ec-touch`).
 */
export const sharedStyles = css`
  :host {
    font-family: var(--ec-font);
    color: var(--ec-text);
    box-sizing: border-box;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  h1 {
    font-size: 1.6rem;
    font-weight: 700;
    margin: 0 0 0.75rem;
    color: var(--ec-primary-strong);
    line-height: 1.25;
  }
  h2 {
    font-size: 1.2rem;
    font-weight: 600;
    margin: 1.25rem 0 0.5rem;
    color: var(--ec-primary-strong);
  }
  a {
    color: var(--ec-primary);
  }
  .page {
    max-width: 1100px;
    margin: 0 auto;
    padding: 1.25rem 1rem 3rem;
  }
  .card {
    background: var(--ec-surface);
    border: 1px solid var(--ec-border);
    border-radius: var(--ec-radius);
    box-shadow: var(--ec-shadow);
    padding: 1rem 1.25rem;
  }
  .muted {
    color: var(--ec-muted);
  }
  .row {
    display: flex;
    gap: 0.75rem;
    align-items: center;
    flex-wrap: wrap;
  }
  .spacer {
    flex: 1;
  }
  button,
  .btn {
    font: inherit;
    font-weight: 600;
    min-height: var(--ec-touch);
    min-width: var(--ec-touch);
    padding: 0.45rem 1.1rem;
    border-radius: 8px;
    border: 1px solid var(--ec-border);
    background: var(--ec-surface);
    color: var(--ec-primary-strong);
    cursor: pointer;
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 0.4rem;
    text-decoration: none;
    touch-action: manipulation;
  }
  button:hover:not(:disabled),
  .btn:hover {
    background: var(--ec-primary-soft);
  }
  button:focus-visible,
  .btn:focus-visible,
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible,
  [tabindex]:focus-visible {
    outline: 3px solid #6f9be0;
    outline-offset: 2px;
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  button.primary,
  .btn.primary {
    background: var(--ec-primary);
    border-color: var(--ec-primary);
    color: #fff;
  }
  button.primary:hover:not(:disabled),
  .btn.primary:hover {
    background: var(--ec-primary-strong);
  }
  button.danger {
    color: var(--ec-danger);
    border-color: #e3b4b0;
  }
  button.danger:hover:not(:disabled) {
    background: var(--ec-danger-soft);
  }
  button.icon {
    padding: 0.3rem;
  }
  label.field {
    display: flex;
    flex-direction: column;
    gap: 0.3rem;
    font-weight: 500;
    font-size: 0.95rem;
  }
  input,
  select,
  textarea {
    font: inherit;
    font-size: 1rem;
    min-height: var(--ec-touch);
    padding: 0.45rem 0.7rem;
    border: 1px solid #b9c3d3;
    border-radius: 8px;
    background: #fff;
    color: var(--ec-text);
    width: 100%;
  }
  input[type='checkbox'] {
    width: 24px;
    height: 24px;
    min-height: 0;
    accent-color: var(--ec-primary);
  }
  textarea {
    min-height: 5rem;
    resize: vertical;
  }
  .badge {
    display: inline-flex;
    align-items: center;
    padding: 0.1rem 0.65rem;
    border-radius: 999px;
    font-size: 0.85rem;
    font-weight: 600;
    background: var(--ec-primary-soft);
    color: var(--ec-primary-strong);
    white-space: nowrap;
  }
  .badge.draft {
    background: #eceff3;
    color: #4a5566;
  }
  .badge.published {
    background: var(--ec-primary-soft);
    color: var(--ec-primary-strong);
  }
  .badge.live {
    background: var(--ec-danger-soft);
    color: var(--ec-danger);
  }
  .badge.paused {
    background: var(--ec-warning-soft);
    color: var(--ec-warning);
  }
  .badge.closed {
    background: var(--ec-success-soft);
    color: var(--ec-success);
  }
  .state {
    padding: 2rem 1rem;
    text-align: center;
    color: var(--ec-muted);
  }
  .error {
    background: var(--ec-danger-soft);
    color: var(--ec-danger);
    border: 1px solid #efc4c0;
    border-radius: 8px;
    padding: 0.75rem 1rem;
  }
  .notice {
    background: var(--ec-warning-soft);
    color: var(--ec-warning);
    border: 1px solid #efd9a6;
    border-radius: 8px;
    padding: 0.75rem 1rem;
  }
  .ok {
    background: var(--ec-success-soft);
    color: var(--ec-success);
    border-radius: 8px;
    padding: 0.75rem 1rem;
  }
  table {
    width: 100%;
    border-collapse: collapse;
  }
  th,
  td {
    text-align: left;
    padding: 0.6rem 0.5rem;
    border-bottom: 1px solid var(--ec-border);
    vertical-align: middle;
  }
  th {
    font-size: 0.85rem;
    text-transform: uppercase;
    letter-spacing: 0.03em;
    color: var(--ec-muted);
    font-weight: 600;
  }
  /* Every collapsible section shows whether it is open: a chevron that turns (the browser's own
     triangle disappears as soon as a summary is display:flex, which most of ours are). */
  details > summary {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    min-height: var(--ec-touch);
    cursor: pointer;
    list-style: none;
  }
  details > summary::-webkit-details-marker {
    display: none;
  }
  details > summary::before {
    content: '';
    flex: none;
    width: 0.55em;
    height: 0.55em;
    margin: 0 0.3em 0 0.15em;
    border-right: 2.5px solid var(--ec-primary);
    border-bottom: 2.5px solid var(--ec-primary);
    transform: rotate(-45deg);
    transition: transform 0.15s;
  }
  details[open] > summary::before {
    transform: rotate(45deg);
  }
  details > summary > h2,
  details > summary > h3 {
    margin: 0;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  @keyframes ec-spin {
    to {
      transform: rotate(360deg);
    }
  }
  .spinner {
    display: inline-block;
    width: 1.4rem;
    height: 1.4rem;
    border: 3px solid var(--ec-primary-soft);
    border-top-color: var(--ec-primary);
    border-radius: 50%;
    animation: ec-spin 0.9s linear infinite;
    vertical-align: middle;
  }
  @media (max-width: 600px) {
    .page {
      padding: 0.75rem 0.5rem 2rem;
    }
    .card {
      padding: 0.75rem;
    }
  }
`;

/**
 * `.o1` … `.o9`: the order of a toolbar's controls, set once in the markup; a phone layout can move one
 * (a later rule of the same weight, e.g. `.more { order: 10 }`). Used by the PDF viewer and the annotation bar.
 */
export const toolbarOrderStyles = css`
  .o1 {
    order: 1;
  }
  .o2 {
    order: 2;
  }
  .o3 {
    order: 3;
  }
  .o4 {
    order: 4;
  }
  .o5 {
    order: 5;
  }
  .o6 {
    order: 6;
  }
  .o7 {
    order: 7;
  }
  .o8 {
    order: 8;
  }
  .o9 {
    order: 9;
  }
`;
