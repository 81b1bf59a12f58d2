import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PdfPool, pdfPool } from '../../server/documents/pdf.pool.js';
import { lastRender } from '../../server/pdf/fonts.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { pdf, upload } from './documents-helpers.js';

/**
 * Issue #15, "exports and other heavy work in a bounded queue off the main loop": generated PDFs and
 * annotated copies are made by tasks of the PDF pool's worker threads. `lastRender` is the font
 * module's record of the last document laid out *in this thread* (the server runs in the test's
 * process): when the exports ran on the event loop, each of them overwrote it.
 */
describe('heavy PDF work runs in the PDF pool’s workers, not on the event loop', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ seed: 'admin' });
  });
  afterAll(async () => {
    await s?.close();
  });

  const text = (bytes: ArrayBuffer) => {
    const file = path.join(s.dataDir, `export-${Math.random().toString(36).slice(2)}.pdf`);
    fs.writeFileSync(file, Buffer.from(bytes));
    return execFileSync('pdftotext', ['-layout', file, '-']).toString();
  };

  it('the task board, the minutes and an annotated copy come out complete, each made by a worker task; nothing is laid out on the main thread', async () => {
    const m = await buildMeeting(s, { members: 1, agendaItems: 1 });
    const sec = await m.as('secretary');
    const task = await sec.post('/api/tasks', { meetingId: m.meetingId, title: 'Rà soát quy chế làm việc của Ban', owner: { kind: 'user', userId: m.members[0].id }, deadline: new Date(Date.now() + 7 * 86400_000).toISOString() });
    expect(task.status).toBe(201);
    const up = await upload(sec, m.meetingId, m.itemIds[0], pdf('seed-0.pdf'), 'seed.pdf');
    expect(up.status).toBe(201);

    const pool = pdfPool(s.app.ctx.config);
    const before = pool.stats().done;
    lastRender.subsetMs = -1;
    const get = (url: string) => fetch(s.url + url, { headers: { cookie: sec.cookie } });

    const board = await get(`/api/committees/${m.committeeId}/tasks.pdf`);
    expect(board.status).toBe(200);
    const boardText = text(await board.arrayBuffer());
    expect(boardText).toContain('BẢNG THEO DÕI THỰC HIỆN NHIỆM VỤ');
    expect(boardText).toContain('Rà soát quy chế làm việc của Ban');

    const fin = await sec.post(`/api/meetings/${m.meetingId}/minutes/finalize`);
    expect(fin.status).toBe(201);
    const minutes = await get(`/api/meetings/${m.meetingId}/minutes/versions/${fin.body.version}/pdf`);
    expect(minutes.status).toBe(200);
    expect(text(await minutes.arrayBuffer())).toContain('BIÊN BẢN');

    const copy = await get(`/api/documents/${up.body.id}/annotations/copy`);
    expect(copy.status).toBe(200);
    expect(Buffer.from(await copy.arrayBuffer()).subarray(0, 5).toString('latin1')).toBe('%PDF-');

    const after = pool.stats().done;
    expect(after.render - before.render).toBe(2); // the board and the minutes
    expect(after.annotated - before.annotated).toBe(1); // made editable, flattened and watermarked in one task
    expect(lastRender.subsetMs).toBe(-1);
  });

  it('a generated PDF that fails or overruns its time limit is a 500 internal, and the pool goes on serving', async () => {
    const pool = pdfPool(s.app.ctx.config);
    const table = { heading: 'Ban Chỉ đạo', title: 'BẢNG THEO DÕI', rows: [['STT', 'Nhiệm vụ'], ['1', 'Đề án chuyển đổi số']] };
    await expect(pool.render('table', { ...table, rows: null as never })).rejects.toMatchObject({ code: 'internal', status: 500 });
    const ok = await pool.render('table', table);
    expect(ok.subarray(0, 5).toString('latin1')).toBe('%PDF-');

    // A pool whose time limit no render can meet: the worker is terminated and replaced, every task fails alike.
    const strict = new PdfPool({ timeoutMs: 1, maxHeapMb: 256 });
    try {
      for (let i = 0; i < 2; i++) await expect(strict.render('table', table)).rejects.toMatchObject({ code: 'internal', status: 500 });
      expect(strict.stats()).toMatchObject({ workers: 0, running: 0, waiting: 0, done: { render: 0 } });
    } finally {
      await strict.close();
    }
  });

  it('a worker that fails while idle is dropped without taking the server down; the next task gets a fresh one', async () => {
    const pool = new PdfPool({ timeoutMs: 60_000, maxHeapMb: 256 });
    try {
      const table = { heading: 'Ban Chỉ đạo', title: 'BẢNG', rows: [['1', 'Việc']] };
      await pool.render('table', table);
      expect(pool.stats()).toMatchObject({ workers: 1, running: 0 });
      // What a stray rejection inside the worker after its task settled looks like from here.
      const idle = (pool as unknown as { idle: import('node:worker_threads').Worker[] }).idle[0];
      expect(() => idle.emit('error', new Error('stray rejection after the task'))).not.toThrow();
      expect(pool.stats().workers).toBe(0);
      expect((await pool.render('table', table)).subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(pool.stats()).toMatchObject({ workers: 1, done: { render: 2 } });
    } finally {
      await pool.close();
    }
  });
});
