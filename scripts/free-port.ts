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
