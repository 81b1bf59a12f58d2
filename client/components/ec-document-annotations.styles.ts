import { css } from 'lit';

/** The annotation toolbar and panel drawn over the PDF viewer (tools, colours, widths, the list of my annotations). */
export const documentAnnotationsStyles = css`
  :host {
    display: block;
    background: var(--ec-surface, #fff);
    border-bottom: 1px solid var(--ec-border, #ddd);
  }
  :host(:not([open])) {
    display: none;
  }
  .bar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.35rem;
    padding: 0.3rem 0.6rem;
  }
  .bar button {
    min-height: 44px;
    min-width: 44px;
    flex: none;
  }
  /* The order of the tools; wide, the "more" group sits in the row (display: contents). */
  .extra {
    display: contents;
  }
  .more {
    display: none;
  }
  /* Phones: two short rows — the tools with undo/redo, then share, mine, "⋯" and the sync state;
     colours, width and "draw for everyone" open under "⋯" (a row that scrolled sideways hid half of them). */
  @media (max-width: 600px) {
    .bar {
      gap: 0.25rem;
      padding: 0.25rem 0.4rem;
    }
    .sep,
    .wide-label {
      display: none;
    }
    .bar button.o1,
    .bar button.o6,
    .bar button.more {
      width: 44px;
      padding: 0;
    }
    .bar button {
      padding: 0 0.6rem;
    }
    .more {
      display: inline-flex;
      order: 8;
      font-size: 1.3rem;
    }
    .extra {
      display: none;
    }
    .extra.open {
      display: flex;
      flex-wrap: wrap;
      gap: 0.25rem;
      align-items: center;
      order: 10;
      flex: 1 1 100%;
    }
    .status {
      white-space: nowrap;
    }
  }
  /* A collapsible list says whether it is open. */
  .bar button.disclosure::after {
    content: ' ▸';
  }
  .bar button.disclosure[aria-expanded='true']::after {
    content: ' ▾';
  }
  .bar button[aria-pressed='true'] {
    outline: 3px solid var(--ec-primary, #1c5bb8);
    outline-offset: -3px;
  }
  .bar select {
    width: auto;
    min-height: 44px;
  }
  .swatch {
    width: 44px;
    padding: 0;
  }
  .swatch span {
    display: inline-block;
    width: 22px;
    height: 22px;
    border-radius: 50%;
    border: 1px solid #0003;
    vertical-align: middle;
  }
  .sep {
    width: 1px;
    height: 32px;
    background: var(--ec-border, #ddd);
    margin: 0 0.2rem;
  }
  .status {
    margin-left: auto;
    font-size: 0.9rem;
  }
  .status.offline,
  .status.refused {
    color: #b02a37;
    font-weight: 600;
  }
  .panel {
    max-height: 40vh;
    overflow: auto;
    padding: 0 0.6rem 0.5rem;
  }
  .panel ul {
    list-style: none;
    margin: 0;
    padding: 0;
  }
  .panel li {
    display: flex;
    align-items: center;
    gap: 0.5rem;
    border-top: 1px solid var(--ec-border, #eee);
    padding: 0.25rem 0;
  }
  .panel li .what {
    flex: 1;
    min-width: 0;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  .flag {
    color: #d9480f;
    font-weight: 600;
  }
  .error {
    color: #b02a37;
    padding: 0 0.6rem 0.4rem;
  }
`;
