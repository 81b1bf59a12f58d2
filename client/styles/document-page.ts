import { type ReactiveController, type ReactiveControllerHost, css } from 'lit';

/**
 * Layout of a full-height document page (`ec-document-view`, `ec-annotate-view`): a compact title
 * bar above an `ec-pdf-viewer` that takes the rest of the screen below the app header.
 */
export const documentPageStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    /* --page-top: the app header's height, measured by fillBelowHeader() (it wraps on phones). */
    height: calc(100vh - var(--page-top, 64px));
    height: calc(100dvh - var(--page-top, 64px));
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
  .short {
    display: none;
  }
  /* Phones: the back link and the buttons on one row, the title on the next. */
  @media (max-width: 700px) {
    .head h1 {
      order: 5;
      flex-basis: 100%;
    }
    .long {
      display: none;
    }
    .short {
      display: inline;
    }
  }
`;

/**
 * Keeps a full-height view exactly below the app header: sets `--page-top` on the host to its
 * distance from the top of the document after every update (cheap; the header's height changes with
 * the width and the language) and on every resize while the view is on the page.
 */
export class FillBelowHeader implements ReactiveController {
  constructor(private readonly host: ReactiveControllerHost & HTMLElement) {
    host.addController(this);
  }

  #measure = () => {
    const top = `${Math.max(0, Math.round(this.host.getBoundingClientRect().top + window.scrollY))}px`;
    if (this.host.style.getPropertyValue('--page-top') !== top) this.host.style.setProperty('--page-top', top);
  };

  hostConnected(): void {
    window.addEventListener('resize', this.#measure);
  }

  hostDisconnected(): void {
    window.removeEventListener('resize', this.#measure);
  }

  hostUpdated(): void {
    this.#measure();
  }
}
