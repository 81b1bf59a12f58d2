import { css } from 'lit';

/**
 * Layout of a full-height document page (`ec-document-view`, `ec-annotate-view`): a compact title
 * bar above an `ec-pdf-viewer` that takes the rest of the screen below the app header.
 */
export const documentPageStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    height: calc(100vh - 64px);
    height: calc(100dvh - 64px);
    min-height: 420px;
  }
  .head {
    display: flex;
    align-items: center;
    gap: 0.5rem 1rem;
    flex-wrap: wrap;
    padding: 0.35rem 0.75rem;
    background: var(--ec-surface);
    border-bottom: 1px solid var(--ec-border);
  }
  .head h1 {
    font-size: 1.15rem;
    margin: 0;
    flex: 1 1 240px;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  .back {
    display: inline-flex;
    align-items: center;
    min-height: var(--ec-touch);
    text-decoration: none;
  }
  select {
    width: auto;
  }
  ec-pdf-viewer {
    flex: 1;
    min-height: 0;
  }
`;
