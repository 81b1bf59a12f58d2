import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { DocumentAccessLevel, DocumentInfo } from '../../shared/protocol/documents.js';
import type { Participant } from '../../shared/protocol/meetings.js';
import { ApiError, type Api } from '../services/api.js';
import { sharedStyles } from '../styles/shared.js';
import { uploadErrorMessage, xhrUpload } from './ec-document-upload.js';

/**
 * Secretary's controls for one document: rename, access (all / named / confidential) with the named
 * participants, publish or hold back, move up/down, replace with a new version, remove.
 * Fires `ec-documents-changed` after every successful change.
 */
@localized()
@customElement('ec-document-editor')
export class EcDocumentEditor extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        border-top: 1px dashed var(--ec-border);
        margin-top: 0.5rem;
        padding-top: 0.75rem;
      }
      .grid {
        display: grid;
        grid-template-columns: minmax(0, 2fr) minmax(0, 1fr);
        gap: 0.75rem;
      }
      .offline-allowed {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        min-height: 44px;
        margin: 0.5rem 0;
      }
      .offline-allowed input {
        width: 24px;
        height: 24px;
      }
      fieldset {
        border: 1px solid var(--ec-border);
        border-radius: 8px;
        margin: 0;
        padding: 0.5rem 0.75rem;
        max-height: 220px;
        overflow: auto;
      }
      fieldset label {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        min-height: var(--ec-touch);
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin-top: 0.75rem;
      }
      input[type='file'] {
        display: none;
      }
      @media (max-width: 700px) {
        .grid {
          grid-template-columns: 1fr;
        }
      }
    `,
  ];

  @property({ attribute: false }) api!: Api;
  @property({ attribute: false }) doc!: DocumentInfo;
  @property({ attribute: false }) participants: Participant[] = [];
  /** Index among the item's documents and how many there are (for move up/down). */
  @property({ type: Number }) index = 0;
  @property({ type: Number }) count = 1;

  @state() private name = '';
  @state() private access: DocumentAccessLevel = 'all';
  @state() private viewers = new Set<number>();
  @state() private offlineAllowed = false;
  @state() private busy = false;
  @state() private error = '';
  @state() private replaceProgress: number | null = null;

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('doc') && this.doc) {
      this.name = this.doc.title;
      this.access = this.doc.access;
      this.viewers = new Set(this.doc.viewerIds);
      this.offlineAllowed = this.doc.offlineAllowed;
    }
  }

  async #run(fn: () => Promise<unknown>) {
    this.busy = true;
    this.error = '';
    try {
      await fn();
      this.dispatchEvent(new CustomEvent('ec-documents-changed', { bubbles: true, composed: true }));
    } catch (e) {
      this.error = e instanceof ApiError ? e.message : String(e);
    } finally {
      this.busy = false;
    }
  }

  #save() {
    return this.#run(() =>
      this.api.patch(`/api/documents/${this.doc.id}`, {
        title: this.name,
        access: this.access,
        viewerIds: this.access === 'all' ? [] : [...this.viewers],
        offlineAllowed: this.access === 'confidential' && this.offlineAllowed,
      }),
    );
  }

  #replace(file: File | undefined) {
    if (!file) return;
    this.replaceProgress = 0;
    return this.#run(async () => {
      try {
        await xhrUpload(`/api/documents/${this.doc.id}/versions`, file, {}, (p) => (this.replaceProgress = p));
      } catch (e) {
        const err = e as { status: number; code?: string };
        throw new Error(uploadErrorMessage(err.status, err.code));
      } finally {
        this.replaceProgress = null;
      }
    });
  }

  #remove() {
    if (!confirm(msg(str`Gỡ tài liệu "${this.doc.title}" khỏi phiên họp?`, { id: 'documents.edit.confirmRemove' }))) return;
    return this.#run(() => this.api.delete(`/api/documents/${this.doc.id}`));
  }

  override render() {
    const d = this.doc;
    return html`
      <div class="grid">
        <label class="field">
          ${msg('Tên tài liệu', { id: 'documents.edit.title' })}
          <input name="title" .value=${this.name} maxlength="300" @input=${(e: Event) => (this.name = (e.target as HTMLInputElement).value)} />
        </label>
        <label class="field">
          ${msg('Quyền xem', { id: 'documents.edit.access' })}
          <select name="access" @change=${(e: Event) => (this.access = (e.target as HTMLSelectElement).value as DocumentAccessLevel)}>
            <option value="all" ?selected=${this.access === 'all'}>${msg('Mọi thành phần dự họp', { id: 'documents.access.all' })}</option>
            <option value="named" ?selected=${this.access === 'named'}>${msg('Chỉ người được chỉ định', { id: 'documents.access.named' })}</option>
            <option value="confidential" ?selected=${this.access === 'confidential'}>${msg('Mật: người được chỉ định, chỉ xem', { id: 'documents.access.confidential' })}</option>
          </select>
        </label>
      </div>
      ${this.access !== 'all'
        ? html`<fieldset>
            <legend>${msg('Người được xem', { id: 'documents.edit.viewers' })}</legend>
            ${this.participants.map(
              (p) => html`<label>
                <input
                  type="checkbox"
                  .checked=${this.viewers.has(p.userId)}
                  @change=${(e: Event) => {
                    const next = new Set(this.viewers);
                    if ((e.target as HTMLInputElement).checked) next.add(p.userId);
                    else next.delete(p.userId);
                    this.viewers = next;
                  }}
                />
                ${p.fullName}${p.unit ? html` <span class="muted">— ${p.unit}</span>` : nothing}
              </label>`,
            )}
          </fieldset>`
        : nothing}
      ${this.access === 'confidential'
        ? html`<label class="offline-allowed">
            <input
              type="checkbox"
              name="offlineAllowed"
              .checked=${this.offlineAllowed}
              @change=${(e: Event) => (this.offlineAllowed = (e.target as HTMLInputElement).checked)}
            />
            ${msg('Cho phép người được xem lưu bản ngoại tuyến trên máy tính bảng', { id: 'documents.edit.offlineAllowed' })}
          </label>`
        : nothing}
      <div class="actions">
        <button class="primary" ?disabled=${this.busy} @click=${this.#save}>${msg('Lưu', { id: 'documents.edit.save' })}</button>
        <button ?disabled=${this.busy} @click=${() => this.#run(() => this.api.patch(`/api/documents/${d.id}`, { published: !d.published }))}>
          ${d.published ? msg('Tạm ẩn với thành viên', { id: 'documents.edit.unpublish' }) : msg('Công bố cho thành viên', { id: 'documents.edit.publish' })}
        </button>
        <button ?disabled=${this.busy || this.index === 0} aria-label=${msg('Chuyển lên', { id: 'documents.edit.up' })} @click=${() => this.#run(() => this.api.post(`/api/documents/${d.id}/move`, { position: this.index - 1 }))}>↑</button>
        <button ?disabled=${this.busy || this.index >= this.count - 1} aria-label=${msg('Chuyển xuống', { id: 'documents.edit.down' })} @click=${() => this.#run(() => this.api.post(`/api/documents/${d.id}/move`, { position: this.index + 1 }))}>↓</button>
        <button ?disabled=${this.busy} @click=${() => this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')?.click()}>
          ${this.replaceProgress !== null
            ? msg(str`Đang thay… ${Math.round(this.replaceProgress * 100)}%`, { id: 'documents.edit.replacing' })
            : msg('Thay bằng bản mới', { id: 'documents.edit.replace' })}
        </button>
        <input type="file" accept="application/pdf,.pdf" @change=${(e: Event) => {
          const input = e.target as HTMLInputElement;
          void this.#replace(input.files?.[0]);
          input.value = '';
        }} />
        <button class="danger" ?disabled=${this.busy} @click=${this.#remove}>${msg('Gỡ bỏ', { id: 'documents.edit.remove' })}</button>
      </div>
      ${d.versions.length > 1
        ? html`<p class="muted">
            ${msg('Các phiên bản:', { id: 'documents.edit.versions' })}
            ${d.versions.map((v, i) => html`${i ? ', ' : ''}<a href="/documents/${d.id}?version=${v.id}">${msg(str`Bản ${v.version}`, { id: 'documents.versionN' })}</a> (${v.fileName})`)}
          </p>`
        : nothing}
      ${this.error ? html`<p class="error" role="alert">${this.error}</p>` : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-document-editor': EcDocumentEditor;
  }
}
