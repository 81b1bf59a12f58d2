import { IdParams } from '../../shared/protocol/common.js';
import { CertificateInfo, ChangePinBody, DemoCertificateBody, InstallCertificateBody, MyCertificate } from '../../shared/protocol/signing.js';
import type { AppContext } from '../context.js';
import { notFound } from '../http/errors.js';
import { certificateInfo, changePin, demoCaPem, installOwnIdentity, issueOwnDemoIdentity, removeIdentity } from './keystore.js';

/** Signing identities: my certificate (install, demo, PIN); admins may only remove one. */
export function signingRoutes(ctx: AppContext): void {
  const { api, config } = ctx;
  const tags = ['signing'];
  api.route(
    { method: 'get', path: '/api/signing/me', summary: 'My signing certificate (never the key)', tags, access: 'user', response: MyCertificate },
    async ({ user }) => ({ certificate: await certificateInfo(ctx.store, user.id) }),
  );
  api.route(
    { method: 'post', path: '/api/signing/me/pin', summary: 'Change my signing PIN (wrong old PINs count towards the lock)', tags, access: 'user', body: ChangePinBody, noContent: true },
    async ({ user, body }) => {
      await changePin(ctx, user.id, body.oldPin, body.newPin);
    },
  );
  // Only the person a certificate names installs it, under their own PIN: there is no route to install
  // or generate a certificate for someone else (an administrator may only remove one).
  api.route(
    {
      method: 'put',
      path: '/api/signing/me/certificate',
      summary: 'Install my signing certificate: a PKCS#12 issued to me (subject CN = my full name), under my own PIN; replacing one needs its current PIN',
      tags,
      access: 'user',
      body: InstallCertificateBody,
      response: CertificateInfo,
    },
    ({ user, body }) => installOwnIdentity(ctx, user.id, Buffer.from(body.p12Base64, 'base64'), body.password, body.pin, body.oldPin),
  );
  api.route(
    {
      method: 'post',
      path: '/api/signing/me/certificate/demo',
      summary: 'Generate my demo certificate under my own PIN (not in production); replacing one needs its current PIN',
      tags,
      access: 'user',
      body: DemoCertificateBody,
      response: CertificateInfo,
    },
    ({ user, body }) => issueOwnDemoIdentity(ctx, user.id, body.pin, body.oldPin),
  );
  api.route(
    { method: 'delete', path: '/api/admin/users/:id/certificate', summary: "Remove a user's signing certificate (admin; the person installs a new one themselves)", tags, access: 'admin', params: IdParams, noContent: true },
    async ({ user, params }) => {
      await removeIdentity(ctx, user.id, params.id);
    },
  );
  api.route(
    { method: 'get', path: '/api/signing/demo-ca.pem', summary: 'The demo CA certificate (to trust it in a verifier)', tags, access: 'user', responseContentType: 'application/x-pem-file' },
    async ({ res }) => {
      if (config.env === 'production') throw notFound('Demo CA');
      res.type('application/x-pem-file').send(await demoCaPem(ctx));
    },
  );
}
