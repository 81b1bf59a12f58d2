import { IdParams } from '../../shared/protocol/common.js';
import { CertificateInfo, ChangePinBody, InstallCertificateBody, MyCertificate } from '../../shared/protocol/signing.js';
import type { AppContext } from '../context.js';
import { notFound } from '../http/errors.js';
import { certificateInfo, changePin, demoCaPem, installIdentity } from './keystore.js';

/** Signing identities: my certificate, change my PIN; admins install PKCS#12 files. */
export function signingRoutes(ctx: AppContext): void {
  const { api, db, config } = ctx;
  const tags = ['signing'];
  api.route(
    { method: 'get', path: '/api/signing/me', summary: 'My signing certificate (never the key)', tags, access: 'user', response: MyCertificate },
    ({ user }) => ({ certificate: certificateInfo(db, user.id) }),
  );
  api.route(
    { method: 'post', path: '/api/signing/me/pin', summary: 'Change my signing PIN (wrong old PINs count towards the lock)', tags, access: 'user', body: ChangePinBody },
    async ({ user, body }) => {
      await changePin(db, config, user.id, body.oldPin, body.newPin);
    },
  );
  api.route(
    {
      method: 'put',
      path: '/api/admin/users/:id/certificate',
      summary: 'Install a PKCS#12 signing certificate for a user (admin)',
      tags,
      access: 'admin',
      params: IdParams,
      body: InstallCertificateBody,
      response: CertificateInfo,
    },
    ({ user, params, body }) => installIdentity(db, config, user.id, params.id, Buffer.from(body.p12Base64, 'base64'), body.password, body.pin),
  );
  api.route(
    { method: 'get', path: '/api/signing/demo-ca.pem', summary: 'The demo CA certificate (to trust it in a verifier)', tags, access: 'user', responseContentType: 'application/x-pem-file' },
    async ({ res }) => {
      if (config.env === 'production') throw notFound('Demo CA');
      res.type('application/x-pem-file').send(await demoCaPem(db, config));
    },
  );
}
