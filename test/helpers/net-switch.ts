import net from 'node:net';

/**
 * A TCP relay in front of the test server that can drop the "Wi-Fi": while off, every open connection
 * is cut and new ones are closed at once, as when a tablet loses the network (the browser's fetches
 * fail, its WebSockets close). The origin (host:port) stays the same across off/on, so the service
 * worker and its caches stay the same. Counts the bytes it relays towards the browser.
 *
 *   const wifi = await netSwitch(server.port);
 *   page.goto(`${wifi.url}/meetings`); wifi.off(); …; wifi.on();
 */
export interface NetSwitch {
  url: string;
  port: number;
  /** Bytes sent from the server to clients since the last `resetBytes()`. */
  bytesDown: number;
  resetBytes(): void;
  off(): void;
  on(): void;
  close(): Promise<void>;
}

export async function netSwitch(targetPort: number): Promise<NetSwitch> {
  let up = true;
  const open = new Set<net.Socket>();
  const sw: NetSwitch = {
    url: '',
    port: 0,
    bytesDown: 0,
    resetBytes: () => (sw.bytesDown = 0),
    off() {
      up = false;
      for (const s of open) s.destroy();
      open.clear();
    },
    on() {
      up = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        sw.off();
        server.close(() => resolve());
      }),
  };
  const server = net.createServer((client) => {
    if (!up) return client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    open.add(client);
    open.add(upstream);
    upstream.on('data', (d: Buffer) => (sw.bytesDown += d.length));
    client.pipe(upstream);
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', end);
    upstream.on('error', end);
    client.on('close', end);
    upstream.on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sw.port = (server.address() as net.AddressInfo).port;
  // "localhost", not 127.0.0.1: a secure context for the service worker.
  sw.url = `http://localhost:${sw.port}`;
  return sw;
}
