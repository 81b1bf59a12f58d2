/**
 * POSTs a multipart form with XHR (fetch has no upload progress) and reports progress 0..1.
 * Resolves with the JSON answer or rejects with `{ status, code }` (the server's stable error code;
 * status 0 / code `network` when the server was unreachable). `signal` aborts the upload.
 */
export function xhrPostForm<T>(url: string, form: FormData, onProgress: (p: number) => void, signal?: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response as T);
      else reject({ status: xhr.status, code: (xhr.response as { error?: { code?: string } } | null)?.error?.code });
    };
    xhr.onerror = () => reject({ status: 0, code: 'network' });
    xhr.onabort = () => reject({ status: 0, code: 'aborted' });
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}

/** A file size for people: "850 KB", "12,4 MB" (vi) / "12.4 MB" (en). */
export function formatBytes(n: number, locale: string): string {
  const tag = locale === 'en' ? 'en-GB' : 'vi-VN';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${new Intl.NumberFormat(tag, { maximumFractionDigits: 0 }).format(Math.max(1, n / 1024))} KB`;
  return `${new Intl.NumberFormat(tag, { maximumFractionDigits: 1 }).format(n / (1024 * 1024))} MB`;
}
