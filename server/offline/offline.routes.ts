import zlib from 'node:zlib';
import type { NextFunction, Request, Response } from 'express';
import { IdParams } from '../../shared/protocol/common.js';
import { DEVICE_HEADER, DeviceList, DeviceParams, DeviceToken, DocumentText, OfflineManifest } from '../../shared/protocol/offline.js';
import { endSession } from '../auth/sessions.js';
import type { AppContext } from '../context.js';
import { AppError } from '../http/errors.js';
import { documentText, hashDeviceToken, listDevices, offlineManifest, revokeDevice, touchDevice } from './offline.service.js';

/** Offline meeting packs and devices (remote wipe). See docs/OFFLINE.md. */
export function offlineRoutes(ctx: AppContext): void {
  const { api } = ctx;
  const tags = ['offline'];
  api.route(
    {
      method: 'get',
      path: '/api/meetings/:id/offline',
      summary: 'What this device may keep of the meeting for offline reading (URLs to cache, documents left out and why); asked again at every contact',
      tags,
      access: 'user',
      params: IdParams,
      response: OfflineManifest,
    },
    async ({ user, params, res }) => {
      res.setHeader('cache-control', 'no-store');
      return offlineManifest(ctx, user, params.id);
    },
  );
  api.route(
    {
      method: 'get',
      path: '/api/documents/:id/text',
      summary: "Every page's text of the current version (find in document without network); gzip when accepted",
      tags,
      access: 'user',
      params: IdParams,
      // JSON written here (gzip when accepted), already parsed with its schema.
      response: DocumentText,
    },
    async ({ user, params, req, res }) => {
      const body = JSON.stringify(DocumentText.parse(await documentText(ctx, user, params.id)));
      res.setHeader('content-type', 'application/json; charset=utf-8');
      res.setHeader('cache-control', 'private, no-store');
      res.setHeader('vary', 'accept-encoding');
      // A 451-page pack has about 1 MB of text; compressed it is a fifth of that on the tablet's Wi-Fi.
      if (/\bgzip\b/.test(req.get('accept-encoding') ?? '')) {
        res.setHeader('content-encoding', 'gzip');
        res.end(zlib.gzipSync(body, { level: 6 }));
      } else res.end(body);
    },
  );
  api.route(
    { method: 'get', path: '/api/admin/users/:id/devices', summary: "A user's devices (tablets, phones, browsers they signed in from)", tags, access: 'admin', params: IdParams, response: DeviceList },
    ({ params }) => listDevices(ctx, params.id),
  );
  api.route(
    {
      method: 'post',
      path: '/api/admin/users/:id/devices/:deviceId/revoke',
      summary: "Revoke a device: at its next contact its session ends and the app wipes every offline copy on it",
      tags,
      access: 'admin',
      params: DeviceParams,
      noContent: true,
    },
    async ({ user, params }) => {
      await revokeDevice(ctx, user, params.id, params.deviceId);
      return undefined;
    },
  );
}

/**
 * Runs after the session cookie was read: records the device a signed-in request comes from
 * (`x-ec-device`), and refuses every request of a revoked device with 401 `device_revoked`, ending
 * that session first, so the app wipes its offline data and shows the sign-in page.
 */
export function deviceGuard(ctx: AppContext) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const raw = req.get(DEVICE_HEADER);
    if (!req.user || raw === undefined) return next();
    const token = DeviceToken.safeParse(raw);
    if (!token.success) return next(new AppError('invalid_payload', `Malformed ${DEVICE_HEADER} header`, 400));
    const user = req.user;
    const seen = async (): Promise<boolean> => {
      if ((await touchDevice(ctx, user, hashDeviceToken(token.data), req.get('user-agent') ?? '')) === 'ok') return true;
      if (req.sessionTokenHash) {
        const tokenHash = req.sessionTokenHash;
        await ctx.bus.shareWith(ctx.store, 'session:ended', { tokenHash }, () => endSession(ctx.store, tokenHash));
        ctx.bus.emit('session:ended', { tokenHash });
      }
      return false;
    };
    seen().then((ok) => {
      if (ok) return next();
      req.user = undefined;
      res.setHeader('cache-control', 'no-store');
      next(new AppError('device_revoked', 'This device was revoked by an administrator; its offline data is wiped', 401));
    }, next);
  };
}
