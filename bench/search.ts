/**
 * Search quality on our query set (test/integration/search-corpus.ts: 36 queries as people type
 * them, over the five seed articles, the 451-page pack, two meetings and four agenda items):
 * recall@10 and MRR of the first expected thing, one result per thing (responses with one hit per
 * page are de-duplicated in rank order, as the old UI grouped them). Also the share of the top 50
 * hits of a broad query that are pages of the pack ("crowding"), and the time per query.
 *   npm run bench -- search
 * Last line: one JSON object { queries, recall_at_10, mrr, pack_share_top50, ms_per_query, misses }.
 */
import { startTestServer, userIds } from '../test/helpers/server.js';
import { buildSearchCorpus, evaluate } from '../test/integration/search-corpus.js';

const s = await startTestServer({ seed: 'demo', config: { documents: { maxBytes: 8 * 1024 * 1024, pdfTimeoutMs: 120_000, pdfMaxHeapMb: 512 } } as never });
try {
  const secretary = await s.login('secretary');
  const ids = await userIds(await s.login('admin'));
  const corpus = await buildSearchCorpus(secretary, [{ userId: ids.member4, role: 'member' }]);
  const member = await s.login('member4');
  const t0 = performance.now();
  const r = await evaluate(member, corpus);
  const ms = (performance.now() - t0) / r.queries;
  const broad = await member.get(`/api/search?q=${encodeURIComponent('chuyen doi so')}&limit=50`);
  const hits = broad.body.hits as { kind: string; refId: number; pages?: unknown[] }[];
  const packShare = hits.filter((h) => h.kind === 'document' && h.refId === corpus.targets.pack.refId).length / Math.max(1, hits.length);
  for (const m of r.misses) console.log(`  ${m.rank === null ? 'missing' : `rank ${m.rank}`}: ${m.q}`);
  console.log(JSON.stringify({ queries: r.queries, recall_at_10: +r.recallAt10.toFixed(3), mrr: +r.mrr.toFixed(3), pack_share_top50: +packShare.toFixed(3), top50_hits: hits.length, ms_per_query: +ms.toFixed(1), misses: r.misses.length }));
} finally {
  await s.close();
}
