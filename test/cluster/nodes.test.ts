import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNodes } from '../helpers/cluster.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../helpers/redis.js';
import type { TestServer } from '../helpers/server.js';

describe('several nodes share one database and one file store', () => {
  let redis: ThrowawayRedis;
  let nodes: TestServer[];
  beforeAll(async () => {
    redis = await startThrowawayRedis();
    nodes = await startNodes(2, { redisUrl: redis.url });
  });
  afterAll(async () => {
    await Promise.allSettled(nodes.map((n) => n.close()));
    await redis.stop();
  });

  it('a committee made through one node is seen through the other, by the same session', async () => {
    const [a, b] = nodes;
    const adminA = await a.login('admin');
    const made = await adminA.post('/api/committees', { name: `Ban chỉ đạo ${Date.now()}` });
    expect(made.status).toBe(201);
    // The session cookie issued by node A is valid on node B: sessions live in the shared database.
    const adminB = b.anonymous();
    adminB.cookie = adminA.cookie;
    const list = await adminB.get('/api/committees');
    expect(list.status).toBe(200);
    expect(list.body.committees.map((c: { id: number }) => c.id)).toContain(made.body.id);
  });

  it('Redis answers on its port and comes back after a restart', async () => {
    const ping = async () => {
      const net = await import('node:net');
      return new Promise<string>((resolve, reject) => {
        const s = net.connect(redis.port, '127.0.0.1', () => s.write('PING\r\n'));
        s.once('data', (d) => {
          resolve(d.toString().trim());
          s.end();
        });
        s.once('error', reject);
      });
    };
    expect(await ping()).toBe('+PONG');
    await redis.restart();
    expect(await ping()).toBe('+PONG');
  });
});
