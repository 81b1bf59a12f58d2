import { css } from 'lit';

/** The participant's live view: the compact bar, the open vote, the document area and the side panel (the pieces shared by the live views are in live-shared.ts). */
export const liveViewStyles = css`
  :host {
    display: flex;
    flex-direction: column;
    /* The app header's height is measured (it wraps on phones): the document takes the rest. */
    height: calc(100vh - var(--page-top, 64px));
    height: calc(100dvh - var(--page-top, 64px));
    min-height: 480px;
    position: relative;
  }
  .bar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.25rem 0.75rem;
    padding: 0.35rem 0.75rem;
    background: var(--ec-surface);
    border-bottom: 1px solid var(--ec-border);
  }
  h1 {
    font-size: 1rem;
    margin: 0;
    color: var(--ec-primary-strong);
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
    max-width: 22rem;
  }
  .bar .item {
    flex: 1 1 12rem;
    min-width: 0;
    font-weight: 600;
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .bar .item small {
    color: var(--ec-muted);
    font-weight: 500;
    margin-right: 0.35rem;
  }
  .bar .speaker {
    display: inline-flex;
    align-items: center;
    gap: 0.4rem;
    font-weight: 600;
    white-space: nowrap;
  }
  .bar .speaker ec-live-timer {
    font-size: 1.15rem;
  }
  .bar .actions {
    display: flex;
    gap: 0.4rem;
    align-items: center;
    margin-left: auto;
  }
  button {
    font: inherit;
    font-weight: 600;
    min-height: var(--ec-touch, 44px);
    min-width: var(--ec-touch, 44px);
    padding: 0.3rem 0.9rem;
    border-radius: 8px;
    border: 1px solid var(--ec-border);
    background: var(--ec-surface);
    color: var(--ec-primary-strong);
    cursor: pointer;
    touch-action: manipulation;
  }
  button.primary {
    background: var(--ec-primary);
    color: #fff;
    border-color: var(--ec-primary);
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  button[aria-expanded]::after {
    content: ' ▸';
  }
  button[aria-expanded='true']::after {
    content: ' ▾';
  }
  a.btnlink {
    display: inline-flex;
    align-items: center;
    min-height: var(--ec-touch, 44px);
  }
  .badge {
    padding: 0.15rem 0.6rem;
    border-radius: 999px;
    background: var(--ec-primary-soft);
    font-weight: 600;
    font-size: 0.9rem;
    white-space: nowrap;
  }
  .mine {
    font-weight: 600;
    color: var(--ec-success, #1d6b35);
    white-space: nowrap;
  }
  .error {
    color: var(--ec-danger);
    font-weight: 600;
    margin: 0.25rem 0.75rem;
  }
  .offline {
    margin: 0.5rem 0.75rem 0;
  }
  .vote {
    max-height: 50%;
    overflow: auto;
    padding: 0 0.75rem;
    flex: none;
  }
  .vote ec-vote-panel {
    display: block;
  }
  .main {
    flex: 1;
    min-height: 0;
    display: flex;
    position: relative;
  }
  .doc {
    flex: 1;
    min-width: 0;
    display: flex;
    flex-direction: column;
  }
  .docbar {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: 0.25rem 0.75rem;
    padding: 0.25rem 0.75rem;
    background: var(--ec-surface);
    border-bottom: 1px solid var(--ec-border);
  }
  .docbar .who {
    flex: 1 1 100%;
    margin: 0;
    font-size: 0.95rem;
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  label.toggle {
    display: inline-flex;
    align-items: center;
    gap: 0.45rem;
    min-height: var(--ec-touch, 44px);
    font-weight: 600;
    white-space: nowrap;
  }
  label.toggle input {
    width: 1.4rem;
    height: 1.4rem;
  }
  /* A long document title must not widen the page. */
  label.doc {
    display: inline-flex;
    align-items: center;
    gap: 0.4rem;
    flex: 1 1 14rem;
    min-width: 0;
  }
  label.doc select {
    font: inherit;
    min-height: var(--ec-touch, 44px);
    flex: 1;
    min-width: 0;
    width: 100%;
  }
  .offline-tag {
    color: var(--ec-danger);
    font-weight: 600;
  }
  .mypage {
    color: var(--ec-muted);
    white-space: nowrap;
  }
  .viewer {
    flex: 1;
    min-height: 0;
    position: relative;
    display: flex;
    flex-direction: column;
  }
  /* The viewer is a flex column itself: it must fill the box (display:block broke its scrolling). */
  ec-pdf-viewer {
    flex: 1;
    min-height: 0;
  }
  .empty {
    flex: 1;
    display: grid;
    place-items: center;
    color: var(--ec-muted);
    padding: 2rem;
    text-align: center;
  }
  .left {
    position: absolute;
    left: 50%;
    bottom: 1rem;
    transform: translateX(-50%);
    z-index: 6;
    display: flex;
    align-items: center;
    gap: 0.75rem;
    flex-wrap: wrap;
    justify-content: center;
    max-width: calc(100% - 2rem);
    padding: 0.5rem 0.5rem 0.5rem 1rem;
    border-radius: 12px;
    background: var(--ec-primary-strong);
    color: #fff;
    box-shadow: 0 4px 16px rgb(0 0 0 / 35%);
    font-weight: 600;
  }
  .left button {
    background: #fff;
    color: var(--ec-primary-strong);
    border-color: #fff;
  }
  aside {
    box-sizing: border-box;
    width: 340px;
    flex: none;
    overflow: auto;
    border-left: 1px solid var(--ec-border);
    background: var(--ec-bg, #f4f6f9);
    padding: 0.75rem;
    display: grid;
    gap: 0.75rem;
    align-content: start;
  }
  aside .close {
    justify-self: end;
  }
  .card {
    background: var(--ec-surface);
    border: 1px solid var(--ec-border);
    border-radius: var(--ec-radius, 10px);
    padding: 0.75rem;
  }
  h2 {
    font-size: 1.05rem;
    margin: 0 0 0.5rem;
    color: var(--ec-primary-strong);
  }
  .row {
    display: flex;
    gap: 0.5rem;
    flex-wrap: wrap;
    align-items: center;
  }
  .muted {
    color: var(--ec-muted);
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  /* Tablets in portrait and phones: the panel slides over the document instead of beside it. */
  @media (max-width: 900px) {
    aside {
      position: absolute;
      inset: 0 0 0 auto;
      width: min(100%, 380px);
      z-index: 8;
      box-shadow: -4px 0 16px rgb(0 0 0 / 25%);
    }
  }
  .short {
    display: none;
  }
  /* Below desktop width the meeting's name leaves the bar to the item, the speaker and my action
     (it stays the page's heading for screen readers, and is shown in the panel). */
  @media (max-width: 1180px) {
    h1 {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
    }
  }
  @media (max-width: 600px) {
    .long {
      display: none;
    }
    .short {
      display: inline;
    }
    label.doc {
      flex-basis: 8rem;
    }
    .bar {
      padding: 0.3rem 0.5rem;
      gap: 0.25rem 0.5rem;
    }
    .bar .item {
      flex-basis: 100%;
      order: -1;
    }
    .docbar {
      padding: 0.25rem 0.5rem;
    }
    .mypage {
      display: none;
    }
    .panel-label {
      display: none;
    }
  }
`;
