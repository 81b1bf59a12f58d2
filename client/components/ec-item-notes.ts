import { consume } from '@lit/context';
import { localized, msg } from '@lit/localize';
import { Editor } from '@tiptap/core';
import Collaboration from '@tiptap/extension-collaboration';
import StarterKit from '@tiptap/starter-kit';
import { LitElement, type PropertyValues, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { ITEM_NOTES_FIELD, itemNotesDocName } from '../../shared/protocol/yjs.js';
import type { Api } from '../services/api.js';
import { apiContext } from '../services/context.js';
import { type YjsConnection, type YjsStatus, openYjsDoc } from '../services/yjs.js';
import { sharedStyles } from '../styles/shared.js';

/**
 * Collaborative notes of one agenda item (rich text, TipTap bound to the item's Yjs document
 * `meeting:<m>:item:<i>:notes`). Several secretaries edit at once; participants read live. The
 * server decides access; `editable` only shapes the UI (a read-only connection's edits would be
 * dropped by the hub anyway). Shows connecting / offline / no access / error states.
 */
@localized()
@customElement('ec-item-notes')
export class EcItemNotes extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      .bar {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: center;
        margin-bottom: 0.5rem;
      }
      .bar button {
        padding: 0.3rem 0.7rem;
      }
      .bar button[aria-pressed='true'] {
        background: var(--ec-primary-soft);
      }
      .status {
        margin-left: auto;
        font-size: 0.9rem;
        color: var(--ec-muted);
        display: inline-flex;
        align-items: center;
        gap: 0.35rem;
      }
      .status.offline,
      .status.refused {
        color: var(--ec-warning, #7a5200);
      }
      .dot {
        width: 0.6rem;
        height: 0.6rem;
        border-radius: 50%;
        background: currentColor;
      }
      .status.online .dot {
        background: var(--ec-success, #1d6b35);
      }
      .editor {
        border: 1px solid var(--ec-border);
        border-radius: 8px;
        background: var(--ec-surface);
        min-height: 9rem;
        padding: 0.25rem 0.9rem;
        font-size: 1.05rem;
        line-height: 1.55;
      }
      .editor.readonly {
        background: var(--ec-bg, #f7f8fa);
      }
      .editor:focus-within {
        outline: 3px solid var(--ec-primary-soft);
        outline-offset: 1px;
      }
      .ProseMirror {
        min-height: 8rem;
        outline: none;
        white-space: pre-wrap;
        word-wrap: break-word;
        position: relative;
      }
      .ProseMirror p {
        margin: 0.5rem 0;
      }
      .ProseMirror ul,
      .ProseMirror ol {
        padding-left: 1.4rem;
      }
      .hint {
        font-size: 0.9rem;
        margin: 0.4rem 0 0;
      }
      .loading {
        position: absolute;
        inset: 0;
        display: flex;
        align-items: center;
        justify-content: center;
        gap: 0.5rem;
        background: color-mix(in srgb, var(--ec-surface) 80%, transparent);
      }
      .wrap {
        position: relative;
      }
    `,
  ];

  @property({ type: Number }) meetingId = 0;
  @property({ type: Number }) itemId = 0;
  /** Whether to offer editing (the server enforces it regardless). */
  @property({ type: Boolean }) editable = false;

  @consume({ context: apiContext }) private api?: Api;

  @state() private status: YjsStatus = 'connecting';
  @state() private synced = false;
  @state() private marks = { bold: false, italic: false, bulletList: false };

  #conn: YjsConnection | null = null;
  #editor: Editor | null = null;

  override updated(changed: PropertyValues<this>): void {
    if (changed.has('meetingId') || changed.has('itemId')) this.#open();
    else if (changed.has('editable')) this.#editor?.setEditable(this.editable && this.status !== 'forbidden');
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#close();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Re-attached after a move in the DOM: reopen what disconnectedCallback closed.
    if (this.hasUpdated && !this.#conn) this.#open();
  }

  #close(): void {
    this.#editor?.destroy();
    this.#editor = null;
    this.#conn?.destroy();
    this.#conn = null;
  }

  #open(): void {
    this.#close();
    if (!this.meetingId || !this.itemId) return;
    const conn = openYjsDoc(itemNotesDocName(this.meetingId, this.itemId), { api: this.api, meetingId: this.meetingId });
    this.#conn = conn;
    this.status = conn.status;
    this.synced = false;
    conn.addEventListener('change', () => {
      if (this.#conn !== conn) return;
      this.status = conn.status;
      this.synced = conn.synced || this.synced;
      if (conn.status === 'forbidden') this.#editor?.setEditable(false);
    });
    const host = this.renderRoot.querySelector<HTMLElement>('.editor')!;
    host.replaceChildren();
    this.#editor = new Editor({
      element: host,
      editable: this.editable,
      injectCSS: false,
      extensions: [StarterKit.configure({ undoRedo: false }), Collaboration.configure({ document: conn.doc, field: ITEM_NOTES_FIELD })],
      editorProps: {
        attributes: {
          'aria-label': msg('Ghi chú nội dung', { id: 'notes.label' }),
          'aria-multiline': 'true',
          role: 'textbox',
          'data-testid': 'notes-editor',
        },
      },
      onTransaction: ({ editor }) => {
        this.marks = { bold: editor.isActive('bold'), italic: editor.isActive('italic'), bulletList: editor.isActive('bulletList') };
      },
    });
    // Inside a shadow root ProseMirror's `view.root` is the ShadowRoot, which has no createRange();
    // y-tiptap calls it to restore the selection after a remote change (and fails without it).
    const root = this.#editor.view.root as ShadowRoot & { createRange?: () => Range };
    if (!root.createRange) root.createRange = () => document.createRange();
  }

  #statusLabel() {
    switch (this.status) {
      case 'online':
        return this.synced ? msg('Đã đồng bộ', { id: 'notes.synced' }) : msg('Đang đồng bộ…', { id: 'notes.syncing' });
      case 'connecting':
        return msg('Đang kết nối…', { id: 'notes.connecting' });
      case 'offline':
        return msg('Mất kết nối — đang thử lại', { id: 'notes.offline' });
      case 'signed-out':
        return msg('Phiên đăng nhập đã hết', { id: 'notes.signedOut' });
      case 'forbidden':
        return msg('Bạn không có quyền xem ghi chú này', { id: 'notes.forbidden' });
      default:
        return msg('Không mở được ghi chú', { id: 'notes.failed' });
    }
  }

  #cmd(name: 'toggleBold' | 'toggleItalic' | 'toggleBulletList') {
    const chain = this.#editor?.chain().focus();
    if (chain) chain[name]().run();
  }

  override render() {
    const refused = this.status === 'forbidden' || this.status === 'failed' || this.status === 'signed-out';
    const canEdit = this.editable && !refused;
    const cls = this.status === 'online' ? 'online' : refused ? 'refused' : this.status === 'offline' ? 'offline' : '';
    return html`
      <div class="bar">
        ${canEdit
          ? html`<button type="button" aria-pressed=${String(this.marks.bold)} @click=${() => this.#cmd('toggleBold')} title=${msg('Đậm', { id: 'notes.bold' })}>
                <b>B</b>
              </button>
              <button type="button" aria-pressed=${String(this.marks.italic)} @click=${() => this.#cmd('toggleItalic')} title=${msg('Nghiêng', { id: 'notes.italic' })}>
                <i>I</i>
              </button>
              <button type="button" aria-pressed=${String(this.marks.bulletList)} @click=${() => this.#cmd('toggleBulletList')}>
                • ${msg('Danh sách', { id: 'notes.list' })}
              </button>`
          : nothing}
        <span class="status ${cls}" role="status" data-testid="notes-status" data-status=${this.status}><span class="dot"></span>${this.#statusLabel()}</span>
      </div>
      <div class="wrap">
        <div class="editor ${canEdit ? '' : 'readonly'}"></div>
        ${!this.synced && !refused ? html`<div class="loading"><span class="spinner"></span> ${msg('Đang tải ghi chú…', { id: 'notes.loading' })}</div>` : nothing}
      </div>
      ${!canEdit && !refused ? html`<p class="hint muted">${msg('Chỉ thư ký cuộc họp được sửa ghi chú; bạn đang xem trực tiếp.', { id: 'notes.readOnly' })}</p>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-item-notes': EcItemNotes;
  }
}
