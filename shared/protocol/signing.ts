import { z } from 'zod';

/** A signing PIN: 4–64 characters (digits recommended). Never logged, never stored in clear. */
export const SigningPin = z.string().min(4).max(64);

/** Public facts about a signing certificate; the private key never leaves the server. */
export const CertificateInfo = z.object({
  source: z.enum(['demo', 'installed']),
  subject: z.string(),
  /** SHA-256 of the certificate (DER), lowercase hex: what the audit log records for each signature. */
  fingerprint: z.string(),
  issuer: z.string(),
  serial: z.string(),
  notAfter: z.string(),
  locked: z.boolean(),
  attemptsLeft: z.number(),
});
export type CertificateInfo = z.infer<typeof CertificateInfo>;

export const MyCertificate = z.object({ certificate: CertificateInfo.nullable() });

export const ChangePinBody = z.strictObject({ oldPin: SigningPin, newPin: SigningPin });

/**
 * Install MY certificate: a PKCS#12 (base64) issued to me, its file password, and the signing PIN that
 * protects it from now on. Replacing an identity I already have needs its current PIN (`oldPin`).
 * The certificate's subject CN must be my full name.
 */
export const InstallCertificateBody = z.strictObject({
  p12Base64: z.string().min(16).max(64 * 1024).regex(/^[A-Za-z0-9+/=\s]+$/, 'must be base64'),
  password: z.string().max(256),
  pin: SigningPin,
  oldPin: SigningPin.optional(),
});

/** Generate MY demo certificate (non-production only) under my own PIN; replacing one needs its current PIN. */
export const DemoCertificateBody = z.strictObject({ pin: SigningPin, oldPin: SigningPin.optional() });
