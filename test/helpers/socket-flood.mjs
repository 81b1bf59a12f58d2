// Opens N Socket.IO connections with one session cookie from a separate process (so the load of
// the attacking clients does not share the event loop with the server under test), prints one JSON
// line { connected, refused: { code: count } } once every attempt settled, and keeps the sockets
// open until stdin closes.
import { io } from 'socket.io-client';

const [url, cookie, n, protocolVersion] = process.argv.slice(2);
const sockets = [];
const outcomes = await Promise.all(
  Array.from({ length: Number(n) }, () => new Promise((resolve) => {
    const socket = io(url, { path: '/socket.io', transports: ['websocket'], extraHeaders: { cookie }, auth: { protocolVersion: Number(protocolVersion) }, reconnection: false, timeout: 30_000 });
    sockets.push(socket);
    socket.once('connect', () => resolve('ok'));
    socket.once('connect_error', (e) => resolve(e.data?.code ?? `error:${e.message}`));
  })),
);
const refused = {};
for (const o of outcomes) if (o !== 'ok') refused[o] = (refused[o] ?? 0) + 1;
process.stdout.write(`${JSON.stringify({ connected: outcomes.filter((o) => o === 'ok').length, refused })}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  for (const s of sockets) s.close();
  process.exit(0);
});
