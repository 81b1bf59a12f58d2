import { SignPdf } from '@signpdf/signpdf';
import { plainAddPlaceholder } from '@signpdf/placeholder-plain';
import { Signer as SignPdfSigner, SUBFILTER_ADOBE_PKCS7_DETACHED } from '@signpdf/utils';
import type { Signer } from './signer.js';

export interface SignatureMeta {
  /** Why: "Chủ tọa ký biên bản". */
  reason: string;
  /** Signer's display name. */
  name: string;
  location: string;
  contactInfo: string;
  signingTime: Date;
}

/** Room for the CMS blob in the placeholder: a 4096-bit chain with attributes fits comfortably. */
const SIGNATURE_LENGTH = 16_384;

/**
 * Appends one signature to a PDF as an incremental update (the bytes already signed by someone
 * else are kept intact, so earlier signatures stay valid) and fills it with a detached PKCS#7
 * (`adbe.pkcs7.detached`) from `signer`. The input must use a classic xref table (our renderer
 * saves without object streams) — that is what the plain placeholder writer can extend.
 */
export async function signPdf(pdf: Buffer, signer: Signer, meta: SignatureMeta): Promise<Buffer> {
  const withPlaceholder = plainAddPlaceholder({
    pdfBuffer: pdf,
    reason: meta.reason,
    contactInfo: meta.contactInfo,
    name: meta.name,
    location: meta.location,
    signingTime: meta.signingTime,
    signatureLength: SIGNATURE_LENGTH,
    subFilter: SUBFILTER_ADOBE_PKCS7_DETACHED,
    appName: 'E-Cabinet',
  });
  const adapter = new (class extends SignPdfSigner {
    override sign(content: Buffer, signingTime?: Date): Promise<Buffer> {
      return signer.signDetached(content, signingTime ?? meta.signingTime);
    }
  })();
  return new SignPdf().sign(withPlaceholder, adapter, meta.signingTime);
}
