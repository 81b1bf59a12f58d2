import net from 'node:net';

/** A free TCP port on loopback: bound to port 0 and released, for a server started a moment later (tests, `npm run cluster`). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A free loopback port kept bound until `release()`: for a server started much later (HAProxy, after the nodes
 * that must know its URL). A port merely found free can meanwhile become the local end of one of the many
 * connections made in between (Linux draws those from the same range; it skips a port bound like this).
 */
export function holdPort(): Promise<{ port: number; release(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      resolve({ port, release: () => new Promise<void>((done) => s.close(() => done())) });
    });
  });
}
