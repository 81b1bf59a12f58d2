import crypto from 'node:crypto';
import { and, desc, eq, ne } from 'drizzle-orm';
import { MINUTES_FREE_TEXT, MINUTES_GENERATED, type MinutesBlock, type MinutesDocument, type MinutesState, minutesDocName } from '../../shared/protocol/minutes.js';
import type { AuthUser } from '../auth/sessions.js';
import { audit } from '../audit/audit.repo.js';
import type { AppContext } from '../context.js';
import { type Db, tx } from '../db/client.js';
import { pdfPool } from '../documents/pdf.pool.js';
import { committees, liveState, meetingParticipants, meetings, minutesAcks, minutesSignatures, minutesVersions, users } from '../db/schema/index.js';
import { conflict, forbidden, invalidState, notFound } from '../http/errors.js';
import { type MeetingAccess, isCommitteeSecretary, meetingAccess, requireManage } from '../meetings/meetings.access.js';
import { participantIds } from '../meetings/meetings.service.js';
import { registerSearchKind, removeEntries, replaceEntries } from '../search/search.service.js';
import { certificateFingerprint, unlockSigner } from '../signing/keystore.js';
import { signPdf } from '../signing/pdf-sign.js';
import { signatureLines } from '../signing/pdf-stamp.js';
import { fragmentToBlocks } from './minutes.content.js';
import { type GeneratedSection, computeGenerated } from './minutes.generated.js';

export type VersionRow = typeof minutesVersions.$inferSelect;

/** Upper body on the heading of every biên bản (cơ quan chủ quản); deployments set their own. */
const PARENT_BODY = () => process.env.ECABINET_ORG_NAME ?? 'UBND Thành phố Hà Nội';
/** Locality of the place-and-date line. */
const PLACE = () => process.env.ECABINET_ORG_PLACE ?? 'Hà Nội';

const sha256 = (b: Buffer | string) => crypto.createHash('sha256').update(b).digest('hex');

/** Plain text of blocks, for the search index. */
function blocksText(blocks: MinutesBlock[]): string {
  return blocks
    .map((b) => (b.t === 'h' ? b.text : b.t === 'p' ? b.runs.map((r) => r.text).join('') : b.t === 'table' ? b.rows.map((r) => r.join(' ')).join('\n') : b.items.map((i) => i.map((r) => r.text).join('')).join('\n')))
    .join('\n');
}

// Search: a published minutes version (refId = version id) is found by the meeting's participants
// and managers; drafts and superseded versions are never indexed.
registerSearchKind('minutes', (db, user, refIds) => {
  const out = new Set<number>();
  for (const id of refIds) {
    const v = db.select({ meetingId: minutesVersions.meetingId, publishedAt: minutesVersions.publishedAt }).from(minutesVersions).where(eq(minutesVersions.id, id)).get();
    if (!v?.publishedAt) continue;
    try {
      const a = meetingAccess(db, user, v.meetingId);
      if (a.role || a.canManage) out.add(id);
    } catch {
      /* not visible */
    }
  }
  return out;
});

/** Who signs as what: the meeting's chair; a meeting or committee secretary. */
export function signingRole(db: Db, user: AuthUser, a: MeetingAccess): 'chair' | 'secretary' | null {
  if (a.role === 'chair') return 'chair';
  if (a.role === 'secretary' || isCommitteeSecretary(db, user.id, a.meeting.committeeId)) return 'secretary';
  return null;
}

function latestVersion(db: Db, meetingId: number): VersionRow | undefined {
  return db.select().from(minutesVersions).where(eq(minutesVersions.meetingId, meetingId)).orderBy(desc(minutesVersions.version)).get();
}

function publishedVersion(db: Db, meetingId: number): VersionRow | undefined {
  return db
    .select()
    .from(minutesVersions)
    .where(and(eq(minutesVersions.meetingId, meetingId), eq(minutesVersions.status, 'signed')))
    .orderBy(desc(minutesVersions.version))
    .get();
}

/**
 * Access to the minutes document `minutes:<meetingId>` on the Yjs hub: write for those who manage
 * the meeting (its secretaries, admins); read for the chair (who approves and signs) and, once a
 * signed version is published, for every participant; none otherwise (also for non-participants,
 * through meetingAccess's 404).
 */
export function minutesDocAccess(db: Db, user: AuthUser, meetingId: number): 'write' | 'read' | 'none' {
  const a = meetingAccess(db, user, meetingId);
  if (a.canManage) return 'write';
  if (a.role === 'chair') return 'read';
  if (a.role && publishedVersion(db, meetingId)) return 'read';
  return 'none';
}

/**
 * Recomputes the generated sections from the authoritative state and writes them into the
 * minutes document's `generated` Y.Map — only when they changed, and never touching the
 * secretaries' free-text fragment.
 */
export function refreshGenerated(ctx: AppContext, meetingId: number): GeneratedSection[] {
  const sections = computeGenerated(ctx.db, meetingId);
  const hash = sha256(JSON.stringify(sections));
  ctx.yjs.withDoc(minutesDocName(meetingId), (doc) => {
    const map = doc.getMap(MINUTES_GENERATED);
    if (map.get('hash') === hash) return;
    doc.transact(() => {
      map.set('sections', sections);
      map.set('hash', hash);
      map.set('updatedAt', new Date().toISOString());
    });
  });
  return sections;
}

/** Heading data and body blocks of the minutes as they are now (generated + free text). */
function assemble(ctx: AppContext, meetingId: number, number: string): MinutesDocument {
  const { db } = ctx;
  const sections = refreshGenerated(ctx, meetingId);
  const free = ctx.yjs.withDoc(minutesDocName(meetingId), (doc) => fragmentToBlocks(doc.getXmlFragment(MINUTES_FREE_TEXT)));
  const blocks: MinutesBlock[] = sections.filter((s) => s.id !== 'closing').flatMap((s) => s.blocks);
  // The free text is the part after the generated ones (II, or III when conclusions were recorded).
  const part = 1 + sections.filter((s) => s.blocks.some((b) => b.t === 'h' && b.level === 1)).length;
  if (free.length) blocks.push({ t: 'h', level: 1, text: `${['I', 'II', 'III', 'IV', 'V'][part - 1] ?? part}. Ý KIẾN THẢO LUẬN VÀ CÁC NỘI DUNG KHÁC` }, ...free);
  blocks.push(...(sections.find((s) => s.id === 'closing')?.blocks ?? []));
  const m = db.select().from(meetings).where(eq(meetings.id, meetingId)).get()!;
  const openedAt = db.select({ at: liveState.openedAt }).from(liveState).where(eq(liveState.meetingId, meetingId)).get()?.at;
  const committee = db.select().from(committees).where(eq(committees.id, m.committeeId)).get()!;
  const role = (r: 'chair' | 'secretary') =>
    db
      .select({ name: users.fullName, title: users.title })
      .from(meetingParticipants)
      .innerJoin(users, eq(users.id, meetingParticipants.userId))
      .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.role, r)))
      .get() ?? { name: '', title: null };
  return {
    parentBody: PARENT_BODY(),
    issuingBody: committee.name,
    number,
    place: PLACE(),
    date: openedAt ?? m.startsAt,
    subject: m.title,
    blocks,
    chair: role('chair'),
    secretary: role('secretary'),
  };
}

/** "BCĐ" for "Ban Chỉ đạo …", else the initials of the first words. */
function abbreviation(name: string): string {
  if (/^ban chỉ đạo/i.test(name)) return 'BCĐ';
  return name
    .split(/\s+/)
    .slice(0, 3)
    .map((w) => w[0]?.toUpperCase() ?? '')
    .join('');
}

/**
 * Finalizes the minutes: freezes generated sections + free text as a new version, renders the PDF
 * and supersedes earlier versions (their signatures stay in history; the new one needs new ones).
 * @throws invalid_state (draft meeting), already_finalized (nothing changed since the latest version)
 */
export async function finalizeMinutes(ctx: AppContext, user: AuthUser, meetingId: number): Promise<VersionRow> {
  const a = requireManage(ctx.db, user, meetingId);
  if (a.meeting.status === 'draft') throw invalidState('A draft meeting has no minutes to finalize');
  const prev = latestVersion(ctx.db, meetingId);
  const committee = ctx.db.select().from(committees).where(eq(committees.id, a.meeting.committeeId)).get()!;
  const number = prev?.number ?? `${String(meetingId).padStart(2, '0')}/BB-${abbreviation(committee.name)}`;
  const docModel = assemble(ctx, meetingId, number);
  const contentHash = sha256(JSON.stringify(docModel));
  if (prev && prev.contentHash === contentHash && prev.status !== 'superseded') {
    throw conflict('already_finalized', `Version ${prev.version} already holds exactly this content`);
  }
  // Rendered in the PDF pool's workers: a long meeting's minutes take a while to lay out.
  const pdf = await pdfPool(ctx.config).render('minutes', { doc: docModel, creationDate: new Date() }, ctx.log);
  const row = tx(ctx.db, (d) => {
    // Re-read inside the transaction: two concurrent finalizations cannot both create version n+1.
    const latest = d.select().from(minutesVersions).where(eq(minutesVersions.meetingId, meetingId)).orderBy(desc(minutesVersions.version)).get();
    if ((latest?.id ?? null) !== (prev?.id ?? null)) throw conflict('already_finalized', 'The minutes were finalized meanwhile');
    const old = d.select({ id: minutesVersions.id }).from(minutesVersions).where(eq(minutesVersions.meetingId, meetingId)).all();
    removeEntries(d, 'minutes', old.map((o) => o.id));
    d.update(minutesVersions).set({ status: 'superseded' }).where(and(eq(minutesVersions.meetingId, meetingId), ne(minutesVersions.status, 'superseded'))).run();
    const r = d
      .insert(minutesVersions)
      .values({ meetingId, version: (prev?.version ?? 0) + 1, number, content: docModel, contentHash, pdf, pdfHash: sha256(pdf), finalizedBy: user.id })
      .returning()
      .get();
    const signers = d
      .select({ id: meetingParticipants.userId })
      .from(meetingParticipants)
      .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.role, 'chair')))
      .all()
      .map((x) => x.id);
    ctx.notifier.add(d, signers, 'minutes_to_sign', meetingId, { version: r.version, title: a.meeting.title });
    audit(d, { actorId: user.id, action: 'minutes.finalize', targetType: 'meeting', targetId: meetingId, details: { version: r.version, contentHash } });
    return r;
  });
  ctx.notifier.flush();
  return row;
}

/** Serializes signatures of one version in this process (each appends to the same PDF bytes). */
const signing = new Map<number, Promise<unknown>>();

/**
 * Signs a version with the caller's certificate after checking their PIN. The caller names the
 * content hash they reviewed: a superseded version or different content → 409 version_changed.
 * When both chair and secretary have signed, the minutes are published to the participants.
 * @throws forbidden (not a signer), version_changed, already_signed, wrong_pin, pin_locked
 */
export async function signMinutes(ctx: AppContext, user: AuthUser, meetingId: number, version: number, pin: string, contentHash: string): Promise<VersionRow> {
  const a = meetingAccess(ctx.db, user, meetingId);
  const role = signingRole(ctx.db, user, a);
  if (!role) throw forbidden('Only the chair and the secretary sign the minutes');
  const run = async () => {
    const v = ctx.db
      .select()
      .from(minutesVersions)
      .where(and(eq(minutesVersions.meetingId, meetingId), eq(minutesVersions.version, version)))
      .get();
    if (!v) throw notFound('Minutes version');
    if (v.status === 'superseded') throw conflict('version_changed', 'This version was replaced by a newer one; review and sign the latest version');
    if (v.contentHash !== contentHash) throw conflict('version_changed', 'The minutes changed since you reviewed them; review them again');
    const already = ctx.db.select().from(minutesSignatures).where(and(eq(minutesSignatures.versionId, v.id), eq(minutesSignatures.role, role))).get();
    if (already) throw conflict('already_signed', `The ${role} has already signed this version`);
    const signer = await unlockSigner(ctx.db, ctx.config, user.id, pin);
    const signingTime = new Date();
    // The visible signature (name, role, time, certificate serial and fingerprint) goes into the box
    // the layout left for this role, as an incremental update that the signature then covers.
    // Parsing the PDF and embedding the stamp's font run in the PDF pool's workers.
    const stamped = await pdfPool(ctx.config).render('signatureStamp', {
      pdf: v.pdf,
      role,
      lines: signatureLines({ name: signer.commonName, role: role === 'chair' ? 'Chủ tọa' : 'Thư ký', signingTime, certificatePem: signer.certificatePem }),
    });
    const signed = await signPdf(stamped, signer, {
      reason: role === 'chair' ? 'Chủ tọa ký biên bản' : 'Thư ký ký biên bản',
      name: signer.commonName,
      location: PLACE(),
      contactInfo: '',
      signingTime,
    });
    const subject = signer.commonName;
    const out = tx(ctx.db, (d) => {
      const cur = d.select().from(minutesVersions).where(eq(minutesVersions.id, v.id)).get()!;
      if (cur.pdfHash !== v.pdfHash || cur.status === 'superseded') throw conflict('version_changed', 'The minutes changed while signing; try again');
      d.insert(minutesSignatures).values({ versionId: v.id, role, userId: user.id, certSubject: subject }).run();
      const count = d.select().from(minutesSignatures).where(eq(minutesSignatures.versionId, v.id)).all().length;
      const complete = count >= 2;
      const now = new Date().toISOString();
      const r = d
        .update(minutesVersions)
        .set({ pdf: signed, pdfHash: sha256(signed), ...(complete ? { status: 'signed' as const, publishedAt: now } : {}) })
        .where(eq(minutesVersions.id, v.id))
        .returning()
        .get()!;
      if (complete) {
        ctx.notifier.add(d, participantIds(d, meetingId).filter((id) => id !== user.id), 'minutes_published', meetingId, { version: v.version, title: a.meeting.title });
        const doc = v.content as MinutesDocument;
        replaceEntries(d, 'minutes', v.id, [{ meetingId, page: null, title: `Biên bản ${v.number}: ${doc.subject}`, body: blocksText(doc.blocks) }]);
      } else {
        const others = d
          .select({ id: meetingParticipants.userId })
          .from(meetingParticipants)
          .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.role, role === 'chair' ? 'secretary' : 'chair')))
          .all()
          .map((x) => x.id);
        ctx.notifier.add(d, others, 'minutes_to_sign', meetingId, { version: v.version, title: a.meeting.title });
      }
      audit(d, { actorId: user.id, action: 'minutes.sign', targetType: 'meeting', targetId: meetingId, details: { version: v.version, role, certSubject: subject, certSerial: new crypto.X509Certificate(signer.certificatePem).serialNumber.toLowerCase(), certFingerprint: certificateFingerprint(signer.certificatePem) } });
      return { r, complete };
    });
    ctx.notifier.flush();
    // Participants may now read the minutes document.
    if (out.complete) ctx.yjs.recheck({ docName: minutesDocName(meetingId) });
    return out.r;
  };
  const prev = signing.get(meetingId) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(run);
  signing.set(meetingId, next);
  try {
    return await next;
  } finally {
    if (signing.get(meetingId) === next) signing.delete(meetingId);
  }
}

/**
 * A participant acknowledges the published minutes (idempotent).
 * @throws invalid_state when nothing is published, forbidden for non-participants
 */
export function acknowledgeMinutes(ctx: AppContext, user: AuthUser, meetingId: number, version: number): void {
  const a = meetingAccess(ctx.db, user, meetingId);
  if (!a.role) throw forbidden('Only participants acknowledge the minutes');
  const v = publishedVersion(ctx.db, meetingId);
  if (!v || v.version !== version) throw invalidState('This version of the minutes is not the published one');
  tx(ctx.db, (d) => {
    const r = d.insert(minutesAcks).values({ versionId: v.id, userId: user.id }).onConflictDoNothing().run();
    if (r.changes) audit(d, { actorId: user.id, action: 'minutes.acknowledge', targetType: 'meeting', targetId: meetingId, details: { version } });
  });
}

function versionView(db: Db, user: AuthUser, v: VersionRow) {
  const signatures = db
    .select({ role: minutesSignatures.role, userId: minutesSignatures.userId, fullName: users.fullName, certSubject: minutesSignatures.certSubject, signedAt: minutesSignatures.signedAt })
    .from(minutesSignatures)
    .innerJoin(users, eq(users.id, minutesSignatures.userId))
    .where(eq(minutesSignatures.versionId, v.id))
    .all();
  const acknowledgements = db
    .select({ userId: minutesAcks.userId, fullName: users.fullName, at: minutesAcks.at })
    .from(minutesAcks)
    .innerJoin(users, eq(users.id, minutesAcks.userId))
    .where(eq(minutesAcks.versionId, v.id))
    .all();
  return {
    id: v.id,
    meetingId: v.meetingId,
    version: v.version,
    number: v.number,
    status: v.status,
    pdfHash: v.pdfHash,
    contentHash: v.contentHash,
    finalizedAt: v.finalizedAt,
    publishedAt: v.publishedAt,
    signatures,
    acknowledgements,
    acknowledgedByMe: acknowledgements.some((x) => x.userId === user.id),
  };
}

/** Versions the caller may see: all for managers and the chair; only published ones for others. */
function visibleVersions(db: Db, user: AuthUser, a: MeetingAccess): VersionRow[] {
  const all = db.select().from(minutesVersions).where(eq(minutesVersions.meetingId, a.meeting.id)).orderBy(desc(minutesVersions.version)).all();
  if (a.canManage || a.role === 'chair') return all;
  if (!a.role) return [];
  return all.filter((v) => v.publishedAt != null);
}

/** The minutes of a meeting as the caller sees them (refreshing the generated sections for editors). */
export function minutesState(ctx: AppContext, user: AuthUser, meetingId: number): MinutesState {
  const a = meetingAccess(ctx.db, user, meetingId);
  if (a.canManage && a.meeting.status !== 'draft') refreshGenerated(ctx, meetingId);
  return {
    meetingId,
    canEdit: a.canManage,
    signAs: signingRole(ctx.db, user, a),
    docName: minutesDocName(meetingId),
    versions: visibleVersions(ctx.db, user, a).map((v) => versionView(ctx.db, user, v)),
  };
}

/** One version with its frozen content (what the signer reviews). */
export function minutesVersion(ctx: AppContext, user: AuthUser, meetingId: number, version: number) {
  const a = meetingAccess(ctx.db, user, meetingId);
  const v = visibleVersions(ctx.db, user, a).find((x) => x.version === version);
  if (!v) throw notFound('Minutes version');
  return { ...versionView(ctx.db, user, v), content: (v.content as MinutesDocument).blocks };
}

/** The PDF of a version as signed so far. */
export function minutesPdf(ctx: AppContext, user: AuthUser, meetingId: number, version: number): VersionRow {
  const a = meetingAccess(ctx.db, user, meetingId);
  const v = visibleVersions(ctx.db, user, a).find((x) => x.version === version);
  if (!v) throw notFound('Minutes version');
  return v;
}

