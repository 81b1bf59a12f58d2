import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe } from 'vitest';
import { openDb } from '../../server/db/client.js';
import { YjsStore } from '../../server/yjs/yjs.store.js';
import { yjsStoreContract } from '../helpers/yjs-store-contract.js';

describe('Yjs updates on SQLite (server/yjs/yjs.store.ts)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ec-yjs-store-'));
  const db = openDb(dir);
  const stores: YjsStore[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
    db.$client.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  yjsStoreContract(() => {
    const s = new YjsStore(db);
    stores.push(s);
    return s;
  });
});
