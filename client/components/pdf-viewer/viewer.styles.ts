import { css } from 'lit';

/**
 * The PDF viewer's own styles: the toolbar (one row when wide; on a phone the page and zoom buttons,
 * the rest under "⋯"), the thumbnail strip, the scroller of page boxes (canvas, placeholder, overlay)
 * and the loading / error state. The text layer's rules are in text-layer.ts.
 */
export const viewerStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    min-height: 0;
    height: 100%;
    background: #525a66;
  }
  .toolbar {
    display: flex;
    flex-wrap: wrap;
    gap: 0.35rem;
    align-items: center;
    padding: 0.35rem 0.5rem;
    background: var(--ec-surface);
    border-bottom: 1px solid var(--ec-border);
    position: relative;
    z-index: 6;
  }
  /* Wide: every tool in one row, in this order (the "more" panel's tools join it). */
  .extra {
    display: contents;
  }
  .more,
  .narrow-only {
    display: none;
  }
  .toolbar button {
    min-width: var(--ec-touch);
    padding: 0 0.6rem;
  }
  .toolbar input {
    min-height: var(--ec-touch);
  }
  .pageno {
    width: 4.2rem;
    text-align: center;
  }
  .find {
    display: flex;
    gap: 0.35rem;
    align-items: center;
    flex: 1 1 200px;
    justify-content: flex-end;
  }
  .find input {
    width: 9.5rem;
    max-width: 40vw;
  }
  .body {
    flex: 1;
    display: flex;
    min-height: 0;
    position: relative;
  }
  ec-pdf-thumbnails {
    width: 150px;
    flex: none;
    border-right: 1px solid #3b424c;
  }
  .scroller {
    flex: 1;
    overflow: auto;
    position: relative;
    -webkit-overflow-scrolling: touch;
  }
  .pages {
    display: flex;
    flex-direction: column;
    align-items: center;
    gap: 12px;
    padding: 12px;
    min-width: min-content;
  }
  .pg {
    position: relative;
    background: #fff;
    box-shadow: 0 1px 4px rgb(0 0 0 / 40%);
    flex: none;
  }
  .pg canvas {
    position: absolute;
    inset: 0;
    display: block;
  }
  .pg .ph {
    position: absolute;
    inset: 0;
    display: grid;
    place-items: center;
    color: #8a93a0;
    font-size: 0.9rem;
  }
  .pg .ov {
    position: absolute;
    inset: 0;
    pointer-events: none;
    z-index: 3;
  }
  .pg .ov > * {
    pointer-events: auto;
  }
  .state {
    position: absolute;
    inset: 0;
    display: grid;
    place-items: center;
    color: #fff;
    text-align: center;
    padding: 2rem;
    pointer-events: none;
  }
  .state.error {
    background: transparent;
    border: 0;
  }
  .count {
    color: var(--ec-muted);
    font-size: 0.9rem;
    white-space: nowrap;
  }
  /* Phones: one row with the page and zoom buttons; thumbnails, the zoom level, fit width and find
     open under "⋯" in a panel over the page, so the page keeps the screen and nothing is cut off. */
  @media (max-width: 600px) {
    .toolbar {
      gap: 0.3rem;
      padding: 0.3rem 0.4rem;
    }
    .pageno {
      width: 3.4rem;
    }
    .more {
      display: inline-flex;
      order: 10;
      margin-left: auto;
      font-size: 1.3rem;
    }
    .extra {
      display: none;
    }
    .extra.open {
      display: flex;
      flex-wrap: wrap;
      gap: 0.4rem;
      align-items: center;
      position: absolute;
      top: 100%;
      left: 0.4rem;
      right: 0.4rem;
      padding: 0.5rem;
      background: var(--ec-surface);
      border: 1px solid var(--ec-border);
      border-radius: 0 0 10px 10px;
      box-shadow: 0 6px 16px rgb(0 0 0 / 30%);
    }
    .narrow-only {
      display: inline;
    }
    .find {
      flex: 1 1 100%;
      flex-wrap: wrap;
      justify-content: flex-start;
    }
    .find input {
      flex: 1 1 8rem;
      width: auto;
      max-width: none;
    }
  }
  @media (max-width: 700px) {
    ec-pdf-thumbnails {
      position: absolute;
      inset: 0 auto 0 0;
      z-index: 5;
      box-shadow: 2px 0 8px rgb(0 0 0 / 40%);
    }
    .find input {
      min-width: 8rem;
    }
  }
`;
