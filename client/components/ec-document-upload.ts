import { localized, msg, str } from '@lit/localize';
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { DocumentInfo } from '../../shared/protocol/documents.js';
import { xhrPostForm } from '../services/upload.js';
import { sharedStyles } from '../styles/shared.js';

/** A user-facing sentence for an upload refusal (stable server codes → text). */
export function uploadErrorMessage(status: number, code: string | undefined): string {
  switch (code) {
    case 'payload_too_large':
      return msg('Tệp vượt quá dung lượng cho phép.', { id: 'documents.upload.tooLarge' });
    case 'not_a_pdf':
      return msg('Tệp không phải PDF (kiểm tra nội dung, không chỉ đuôi tệp).', { id: 'documents.upload.notPdf' });
    case 'pdf_encrypted':
      return msg('PDF này cần mật khẩu để mở; hãy lưu một bản không đặt mật khẩu rồi tải lại.', { id: 'documents.upload.encrypted' });
    case 'invalid_pdf':
      return msg('Tệp PDF bị hỏng, không đọc được.', { id: 'documents.upload.invalid' });
    case 'pdf_too_complex':
      return msg('PDF quá phức tạp để xử lý an toàn.', { id: 'documents.upload.tooComplex' });
    case 'upload_incomplete':
    case 'network':
      return msg('Mất kết nối khi đang tải lên; hãy thử lại.', { id: 'documents.upload.network' });
    case 'forbidden':
      return msg('Bạn không có quyền tải tài liệu lên phiên họp này.', { id: 'documents.upload.forbidden' });
    default:
      return msg(str`Tải lên không thành công (mã ${status}).`, { id: 'documents.upload.failed' });
  }
}

/**
 * Sends one file with XHR (fetch has no upload progress) and reports progress 0..1.
 * Resolves with the created/updated document or rejects with { status, code }.
 */
export function xhrUpload(url: string, file: File, fields: Record<string, string>, onProgress: (p: number) => void): Promise<DocumentInfo> {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', file, file.name);
  return xhrPostForm<DocumentInfo>(url, fd, onProgress);
}

interface Job {
  file: File;
  progress: number;
  state: 'uploading' | 'processing' | 'done' | 'error';
  message: string;
}

/**
 * Secretary: drop (or pick) one or many PDFs onto an agenda item. Each file is uploaded on its own
 * with a progress bar and its own result; `ec-documents-changed` fires after each success.
 */
@localized()
@customElement('ec-document-upload')
export class EcDocumentUpload extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      .drop {
        border: 2px dashed #9fb0c8;
        border-radius: var(--ec-radius);
        padding: 0.75rem 1rem;
        display: flex;
        gap: 0.75rem;
        align-items: center;
        flex-wrap: wrap;
        background: var(--ec-surface-2);
      }
      .drop.over {
        border-color: var(--ec-primary);
        background: var(--ec-primary-soft);
      }
      input[type='file'] {
        display: none;
      }
      ul {
        list-style: none;
        padding: 0;
        margin: 0.5rem 0 0;
        display: grid;
        gap: 0.4rem;
      }
      li {
        display: grid;
        grid-template-columns: minmax(0, 1fr) 160px;
        gap: 0.2rem 0.75rem;
        align-items: center;
        font-size: 0.95rem;
      }
      .name {
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      progress {
        width: 100%;
        height: 12px;
      }
      .msg {
        grid-column: 1 / -1;
        font-size: 0.9rem;
      }
      .msg.bad {
        color: var(--ec-danger);
      }
      .msg.good {
        color: var(--ec-success);
      }
    `,
  ];

  @property({ type: Number }) meetingId = 0;
  @property({ type: Number }) itemId = 0;
  @state() private jobs: Job[] = [];
  @state() private over = false;

  #pick() {
    this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')?.click();
  }

  #onFiles(files: FileList | null) {
    if (!files?.length) return;
    for (const file of Array.from(files)) void this.#upload(file);
  }

  async #upload(file: File) {
    const job: Job = { file, progress: 0, state: 'uploading', message: '' };
    this.jobs = [...this.jobs, job];
    const update = (patch: Partial<Job>) => {
      Object.assign(job, patch);
      this.jobs = [...this.jobs];
    };
    try {
      const doc = await xhrUpload(`/api/meetings/${this.meetingId}/agenda/items/${this.itemId}/documents`, file, {}, (p) =>
        update({ progress: p, state: p >= 1 ? 'processing' : 'uploading' }),
      );
      update({ progress: 1, state: 'done', message: msg(str`Đã tải lên: ${doc.current.pageCount} trang.`, { id: 'documents.upload.done' }) });
      this.dispatchEvent(new CustomEvent('ec-documents-changed', { bubbles: true, composed: true }));
    } catch (e) {
      const err = e as { status: number; code?: string };
      update({ state: 'error', message: uploadErrorMessage(err.status, err.code) });
    }
  }

  override render() {
    return html`
      <div
        class="drop ${this.over ? 'over' : ''}"
        @dragover=${(e: DragEvent) => (e.preventDefault(), (this.over = true))}
        @dragleave=${() => (this.over = false)}
        @drop=${(e: DragEvent) => {
          e.preventDefault();
          this.over = false;
          this.#onFiles(e.dataTransfer?.files ?? null);
        }}
      >
        <button class="primary" @click=${this.#pick}>${msg('Tải tài liệu PDF lên', { id: 'documents.upload.pick' })}</button>
        <span class="muted">${msg('hoặc kéo thả một hay nhiều tệp PDF vào đây', { id: 'documents.upload.drop' })}</span>
        <input type="file" accept="application/pdf,.pdf" multiple @change=${(e: Event) => {
          const input = e.target as HTMLInputElement;
          this.#onFiles(input.files);
          input.value = '';
        }} />
      </div>
      ${this.jobs.length
        ? html`<ul aria-live="polite">
            ${this.jobs.map(
              (j) => html`<li data-state=${j.state}>
                <span class="name">${j.file.name}</span>
                ${j.state === 'processing' ? html`<progress></progress>` : html`<progress max="1" .value=${j.progress}></progress>`}
                ${j.state === 'processing'
                  ? html`<span class="msg muted">${msg('Đang kiểm tra và lập chỉ mục…', { id: 'documents.upload.processing' })}</span>`
                  : j.message
                    ? html`<span class="msg ${j.state === 'error' ? 'bad' : 'good'}">${j.message}</span>`
                    : nothing}
              </li>`,
            )}
          </ul>`
        : nothing}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ec-document-upload': EcDocumentUpload;
  }
}
