import { localized, msg } from '@lit/localize';
import { Editor } from '@tiptap/core';
import Collaboration from '@tiptap/extension-collaboration';
import CollaborationCaret from '@tiptap/extension-collaboration-caret';
import { TableKit } from '@tiptap/extension-table';
import StarterKit from '@tiptap/starter-kit';
import { LitElement, css, html } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import type { WebsocketProvider } from 'y-websocket';
import type * as Y from 'yjs';
import { MINUTES_FREE_TEXT } from '../../shared/protocol/minutes.js';
import { sharedStyles } from '../styles/shared.js';

// y-tiptap maps remote carets with `view.root.createRange()`; inside a shadow root (every Lit
// view here) `root` is a ShadowRoot, which has no createRange. Ranges are document-wide anyway.
if (typeof ShadowRoot !== 'undefined' && !('createRange' in ShadowRoot.prototype)) {
  Object.defineProperty(ShadowRoot.prototype, 'createRange', { value: () => document.createRange(), configurable: true });
}

const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7f8c'];

/**
 * The rich-text editor of the minutes' free text: TipTap (ProseMirror) bound to the Yjs fragment
 * `body` of the minutes document, with live cursors labelled with each writer's name (awareness).
 * Headings, bold, italic, bullet and numbered lists, tables. Read-only when `editable` is false.
 */
@localized()
@customElement('ec-minutes-editor')
export class EcMinutesEditor extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        gap: 0.35rem;
        padding: 0.4rem;
        border: 1px solid var(--ec-border);
        border-bottom: 0;
        border-radius: var(--ec-radius) var(--ec-radius) 0 0;
        background: var(--ec-surface-2);
      }
      .toolbar button {
        min-width: var(--ec-touch);
        min-height: var(--ec-touch);
        padding: 0 0.7rem;
      }
      .toolbar button[aria-pressed='true'] {
        background: var(--ec-primary);
        color: #fff;
      }
      .surface {
        border: 1px solid var(--ec-border);
        border-radius: 0 0 var(--ec-radius) var(--ec-radius);
        background: var(--ec-surface);
        min-height: 240px;
        padding: 0.75rem 1rem;
      }
      .surface.readonly {
        border-radius: var(--ec-radius);
      }
      .ProseMirror {
        outline: none;
        min-height: 220px;
        font-family: 'Times New Roman', Tinos, serif;
        font-size: 1.1rem;
        line-height: 1.5;
        white-space: pre-wrap;
        word-wrap: break-word;
      }
      .ProseMirror p {
        margin: 0 0 0.5rem;
      }
      .ProseMirror table {
        border-collapse: collapse;
        width: 100%;
        margin: 0.5rem 0;
      }
      .ProseMirror td,
      .ProseMirror th {
        border: 1px solid #888;
        padding: 0.3rem 0.5rem;
        vertical-align: top;
        min-width: 3rem;
      }
      .ProseMirror th {
        background: var(--ec-surface-2);
      }
      .collaboration-carets__caret {
        border-left: 2px solid;
        border-right: 0;
        margin-left: -1px;
        margin-right: -1px;
        pointer-events: none;
        position: relative;
        word-break: normal;
      }
      .collaboration-carets__label {
        border-radius: 4px 4px 4px 0;
        color: #fff;
        font-size: 0.8rem;
        font-weight: 600;
        left: -1px;
        line-height: normal;
        padding: 0.1rem 0.35rem;
        position: absolute;
        top: -1.4em;
        user-select: none;
        white-space: nowrap;
      }
    `,
  ];

  @property({ attribute: false }) doc!: Y.Doc;
  @property({ attribute: false }) provider!: WebsocketProvider;
  @property() userName = '';
  @property({ type: Boolean }) editable = false;
  @query('.surface') private surface!: HTMLElement;
  @state() private tick = 0;
  private editor: Editor | null = null;

  override firstUpdated(): void {
    const color = COLORS[Math.abs([...this.userName].reduce((a, c) => a * 31 + c.charCodeAt(0), 7)) % COLORS.length];
    this.editor = new Editor({
      element: this.surface,
      editable: this.editable,
      extensions: [
        StarterKit.configure({ undoRedo: false }),
        TableKit.configure({ table: { resizable: false } }),
        Collaboration.configure({ fragment: this.doc.getXmlFragment(MINUTES_FREE_TEXT) }),
        CollaborationCaret.configure({ provider: this.provider, user: { name: this.userName, color } }),
      ],
      editorProps: {
        attributes: {
          'aria-label': msg('Ý kiến thảo luận và ghi chép của thư ký', { id: 'minutes.freeTextTitle' }),
          'aria-multiline': 'true',
          role: 'textbox',
        },
      },
      onTransaction: () => {
        this.tick++;
      },
    });
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('editable') && this.editor) this.editor.setEditable(this.editable);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.editor?.destroy();
    this.editor = null;
  }

  private btn(label: string, aria: string, active: boolean, run: () => void) {
    return html`<button type="button" class="secondary" aria-label=${aria} title=${aria} aria-pressed=${active ? 'true' : 'false'} @click=${run}>${label}</button>`;
  }

  override render() {
    const e = this.editor;
    const chain = () => e!.chain().focus();
    void this.tick;
    return html`
      ${this.editable
        ? html`<div class="toolbar" role="toolbar" aria-label=${msg('Định dạng', { id: 'minutes.toolbar' })}>
            ${this.btn('H', msg('Tiêu đề', { id: 'minutes.heading' }), !!e?.isActive('heading'), () => chain().toggleHeading({ level: 2 }).run())}
            ${this.btn('B', msg('Chữ đậm', { id: 'minutes.bold' }), !!e?.isActive('bold'), () => chain().toggleBold().run())}
            ${this.btn('I', msg('Chữ nghiêng', { id: 'minutes.italic' }), !!e?.isActive('italic'), () => chain().toggleItalic().run())}
            ${this.btn('•', msg('Danh sách', { id: 'minutes.bullets' }), !!e?.isActive('bulletList'), () => chain().toggleBulletList().run())}
            ${this.btn('1.', msg('Danh sách đánh số', { id: 'minutes.numbered' }), !!e?.isActive('orderedList'), () => chain().toggleOrderedList().run())}
            ${this.btn('▦', msg('Chèn bảng', { id: 'minutes.table' }), false, () => chain().insertTable({ rows: 3, cols: 3, withHeaderRow: true }).run())}
          </div>`
        : ''}
      <div class="surface ${this.editable ? '' : 'readonly'}" data-testid="minutes-editor"></div>
    `;
  }
}
