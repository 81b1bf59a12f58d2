import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SfuEnv } from '../config.js';

/** Where Debian's `mediasoup-worker` package (experimental suite) installs the worker. */
export const DEBIAN_WORKER_BIN = '/usr/lib/x86_64-linux-gnu/mediasoup/mediasoup-worker';

/** Settings of the SFU, from the environment (see README "A/V"). */
export interface SfuConfig {
  /** `off` turns A/V off deliberately. */
  enabled: boolean;
  /** The worker binary; null when none was found. */
  workerBin: string | null;
  /** Workers at most (one per core by default), created lazily. */
  maxWorkers: number;
  /** Address the WebRTC transports listen on, and the one announced to browsers (NAT, 0.0.0.0). */
  listenIp: string;
  announcedIp: string | undefined;
  rtcMinPort: number;
  rtcMaxPort: number;
  /** TURN-less deployments behind strict firewalls need TCP. */
  enableTcp: boolean;
  logLevel: 'debug' | 'warn' | 'error' | 'none';
}

/** The SFU's variables live in the one environment schema (server/config.ts, docs/CONFIG.md). */
const Env = SfuEnv;

/** The first non-internal IPv4 address of this machine, what LAN tablets can reach. */
function lanAddress(): string | undefined {
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/**
 * Reads the SFU settings. The worker binary is `MEDIASOUP_WORKER_BIN`, else Debian's package path,
 * else the one an `npm install` built inside node_modules. Tests (NODE_ENV=test) listen on loopback.
 */
export function loadSfuConfig(env: NodeJS.ProcessEnv, appEnv: 'development' | 'production' | 'test'): SfuConfig {
  const e = Env.parse(env);
  const built = path.resolve('node_modules/mediasoup/worker/out/Release/mediasoup-worker');
  const workerBin = e.MEDIASOUP_WORKER_BIN ?? [DEBIAN_WORKER_BIN, built].find((p) => fs.existsSync(p)) ?? null;
  const listenIp = e.ECABINET_RTC_LISTEN_IP ?? (appEnv === 'test' ? '127.0.0.1' : '0.0.0.0');
  const announcedIp = e.ECABINET_RTC_ANNOUNCED_IP ?? (listenIp === '0.0.0.0' ? (lanAddress() ?? '127.0.0.1') : undefined);
  return {
    enabled: e.ECABINET_SFU !== 'off',
    workerBin,
    maxWorkers: e.ECABINET_SFU_WORKERS ?? Math.max(1, os.availableParallelism?.() ?? os.cpus().length),
    listenIp,
    announcedIp,
    rtcMinPort: Math.min(e.ECABINET_RTC_MIN_PORT, e.ECABINET_RTC_MAX_PORT),
    rtcMaxPort: Math.max(e.ECABINET_RTC_MIN_PORT, e.ECABINET_RTC_MAX_PORT),
    enableTcp: e.ECABINET_RTC_TCP === 'on',
    logLevel: 'error',
  };
}

/** Router codecs: Opus for speech, VP8 for video (simulcast in every browser), H264 for room PCs. */
export const MEDIA_CODECS = [
  { kind: 'audio' as const, mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video' as const, mimeType: 'video/VP8', clockRate: 90000, parameters: { 'x-google-start-bitrate': 600 } },
  {
    kind: 'video' as const,
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];
