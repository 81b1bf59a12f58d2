import crypto from 'node:crypto';
import { and, desc, eq, ne } from 'drizzle-orm';
import { MINUTES_FREE_TEXT, MINUTES_GENERATED, type MinutesBlock, type MinutesDocument, type MinutesState, minutesDocName } from '../../shared/protocol/minutes.js';
import type { AuthUser } from '../auth/sessions.js';
import { audit } from '../audit/audit.repo.js';
import type { AppContext } from '../context.js';
import type { Q, Store } from '../db/store.js';
import { pdfPool } from '../documents/pdf.pool.js';
import { committees, liveState, meetingParticipants, meetings, minutesAcks, minutesSignatures, minutesVersions, users } from '../db/tables.js';
import { conflict, forbidden, invalidState, notFound } from '../http/errors.js';
import { type MeetingAccess, isCommitteeSecretary, requireManage, meetingAccess } from '../meetings/meetings.access.js';
import { participantIds } from '../meetings/meetings.service.js';
import { registerSearchKind, removeIndexed, replaceIndexed } from '../search/search.service.js';
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
registerSearchKind('minutes', async (store, user, refIds) => {
  const out = new Set<number>();
  for (const id of refIds) {
    const [v] = await store.q.select({ meetingId: minutesVersions.meetingId, publishedAt: minutesVersions.publishedAt }).from(minutesVersions).where(eq(minutesVersions.id, id)).limit(1);
    if (!v?.publishedAt) continue;
    try {
      const a = await meetingAccess(store, user, v.meetingId);
      if (a.role || a.canManage) out.add(id);
    } catch {
      /* not visible */
    }
  }
  return out;
});

/** Who signs as what: the meeting's chair; a meeting or committee secretary. */
export async function signingRole(ctx: AppContext, user: AuthUser, a: MeetingAccess): Promise<'chair' | 'secretary' | null> {
  if (a.role === 'chair') return 'chair';
  if (a.role === 'secretary' || (await isCommitteeSecretary(ctx.store, user.id, a.meeting.committeeId))) return 'secretary';
  return null;
}

async function latestVersion(q: Q, meetingId: number): Promise<VersionRow | undefined> {
  const [v] = await q.select().from(minutesVersions).where(eq(minutesVersions.meetingId, meetingId)).orderBy(desc(minutesVersions.version)).limit(1);
  return v;
}

const publishedWhere = (meetingId: number) => and(eq(minutesVersions.meetingId, meetingId), eq(minutesVersions.status, 'signed'));

async function publishedVersion(q: Q, meetingId: number): Promise<VersionRow | undefined> {
  const [v] = await q.select().from(minutesVersions).where(publishedWhere(meetingId)).orderBy(desc(minutesVersions.version)).limit(1);
  return v;
}

/**
 * Access to the minutes document `minutes:<meetingId>` on the Yjs hub: write for those who manage
 * the meeting (its secretaries, admins); read for the chair (who approves and signs) and, once a
 * signed version is published, for every participant; none otherwise (also for non-participants,
 * through meetingAccess's 404). The minutes kind's `access` on the Yjs hub (server/yjs/yjs.registry.ts).
 */
export async function minutesDocAccess(store: Store, user: AuthUser, meetingId: number): Promise<'write' | 'read' | 'none'> {
  const a = await meetingAccess(store, user, meetingId);
  if (a.canManage) return 'write';
  if (a.role === 'chair') return 'read';
  if (a.role && (await store.q.select({ id: minutesVersions.id }).from(minutesVersions).where(publishedWhere(meetingId)).limit(1)).length > 0) return 'read';
  return 'none';
}

/**
 * Recomputes the generated sections from the authoritative state and writes them into the
 * minutes document's `generated` Y.Map — only when they changed, and never touching the
 * secretaries' free-text fragment.
 */
export async function refreshGenerated(ctx: AppContext, meetingId: number): Promise<GeneratedSection[]> {
  const sections = await computeGenerated(ctx, meetingId);
  const hash = sha256(JSON.stringify(sections));
  await ctx.yjs.withDoc(minutesDocName(meetingId), (doc) => {
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
async function assemble(ctx: AppContext, meetingId: number, number: string): Promise<MinutesDocument> {
  const q = ctx.store.q;
  const sections = await refreshGenerated(ctx, meetingId);
  const free = await ctx.yjs.withDoc(minutesDocName(meetingId), (doc) => fragmentToBlocks(doc.getXmlFragment(MINUTES_FREE_TEXT)));
  const blocks: MinutesBlock[] = sections.filter((s) => s.id !== 'closing').flatMap((s) => s.blocks);
  // The free text is the part after the generated ones (II, or III when conclusions were recorded).
  const part = 1 + sections.filter((s) => s.blocks.some((b) => b.t === 'h' && b.level === 1)).length;
  if (free.length) blocks.push({ t: 'h', level: 1, text: `${['I', 'II', 'III', 'IV', 'V'][part - 1] ?? part}. Ý KIẾN THẢO LUẬN VÀ CÁC NỘI DUNG KHÁC` }, ...free);
  blocks.push(...(sections.find((s) => s.id === 'closing')?.blocks ?? []));
  const [m] = await q.select().from(meetings).where(eq(meetings.id, meetingId)).limit(1);
  const [opened] = await q.select({ at: liveState.openedAt }).from(liveState).where(eq(liveState.meetingId, meetingId)).limit(1);
  const openedAt = opened?.at;
  const [committee] = await q.select().from(committees).where(eq(committees.id, m!.committeeId)).limit(1);
  const role = async (r: 'chair' | 'secretary') =>
    (
      await q
        .select({ name: users.fullName, title: users.title })
        .from(meetingParticipants)
        .innerJoin(users, eq(users.id, meetingParticipants.userId))
        .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.role, r)))
        .limit(1)
    )[0] ?? { name: '', title: null };
  return {
    parentBody: PARENT_BODY(),
    issuingBody: committee!.name,
    number,
    place: PLACE(),
    date: openedAt ?? m!.startsAt,
    subject: m!.title,
    blocks,
    chair: await role('chair'),
    secretary: await role('secretary'),
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
  const a = await requireManage(ctx.store, user, meetingId);
  if (a.meeting.status === 'draft') throw invalidState('A draft meeting has no minutes to finalize');
  const prev = await latestVersion(ctx.store.q, meetingId);
  const [committee] = await ctx.store.q.select().from(committees).where(eq(committees.id, a.meeting.committeeId)).limit(1);
  const number = prev?.number ?? `${String(meetingId).padStart(2, '0')}/BB-${abbreviation(committee!.name)}`;
  const docModel = await assemble(ctx, meetingId, number);
  const contentHash = sha256(JSON.stringify(docModel));
  if (prev && prev.contentHash === contentHash && prev.status !== 'superseded') {
    throw conflict('already_finalized', `Version ${prev.version} already holds exactly this content`);
  }
  // Rendered in the PDF pool's workers: a long meeting's minutes take a while to lay out.
  const pdf = await pdfPool(ctx.config).render('minutes', { doc: docModel, creationDate: new Date() }, ctx.log);
  const row = await ctx.store.tx(async (q) => {
    // Re-read inside the transaction: two concurrent finalizations cannot both create version n+1.
    const latest = await latestVersion(q, meetingId);
    if ((latest?.id ?? null) !== (prev?.id ?? null)) throw conflict('already_finalized', 'The minutes were finalized meanwhile');
    const old = await q.select({ id: minutesVersions.id }).from(minutesVersions).where(eq(minutesVersions.meetingId, meetingId));
    await removeIndexed(ctx.store, 'minutes', old.map((o) => o.id));
    await q.update(minutesVersions).set({ status: 'superseded' }).where(and(eq(minutesVersions.meetingId, meetingId), ne(minutesVersions.status, 'superseded')));
    const [r] = await q
      .insert(minutesVersions)
      .values({ meetingId, version: (prev?.version ?? 0) + 1, number, content: docModel, contentHash, pdf, pdfHash: sha256(pdf), finalizedBy: user.id })
      .returning();
    const signers = (
      await q
        .select({ id: meetingParticipants.userId })
        .from(meetingParticipants)
        .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.role, 'chair')))
    ).map((x) => x.id);
    await ctx.notifier.notify(q, signers, 'minutes_to_sign', meetingId, { version: r!.version, title: a.meeting.title });
    await audit(q, { actorId: user.id, action: 'minutes.finalize', targetType: 'meeting', targetId: meetingId, details: { version: r!.version, contentHash } });
    return r!;
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
  const a = await meetingAccess(ctx.store, user, meetingId);
  const role = await signingRole(ctx, user, a);
  if (!role) throw forbidden('Only the chair and the secretary sign the minutes');
  const run = async () => {
    const [v] = await ctx.store.q
      .select()
      .from(minutesVersions)
      .where(and(eq(minutesVersions.meetingId, meetingId), eq(minutesVersions.version, version)))
      .limit(1);
    if (!v) throw notFound('Minutes version');
    if (v.status === 'superseded') throw conflict('version_changed', 'This version was replaced by a newer one; review and sign the latest version');
    if (v.contentHash !== contentHash) throw conflict('version_changed', 'The minutes changed since you reviewed them; review them again');
    const [already] = await ctx.store.q.select().from(minutesSignatures).where(and(eq(minutesSignatures.versionId, v.id), eq(minutesSignatures.role, role))).limit(1);
    if (already) throw conflict('already_signed', `The ${role} has already signed this version`);
    const signer = await unlockSigner(ctx, user.id, pin);
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
    const out = await ctx.store.tx(async (q) => {
      const [cur] = await q.select().from(minutesVersions).where(eq(minutesVersions.id, v.id)).limit(1);
      if (cur!.pdfHash !== v.pdfHash || cur!.status === 'superseded') throw conflict('version_changed', 'The minutes changed while signing; try again');
      await q.insert(minutesSignatures).values({ versionId: v.id, role, userId: user.id, certSubject: subject });
      const count = (await q.select({ role: minutesSignatures.role }).from(minutesSignatures).where(eq(minutesSignatures.versionId, v.id))).length;
      const complete = count >= 2;
      const now = new Date().toISOString();
      const [r] = await q
        .update(minutesVersions)
        .set({ pdf: signed, pdfHash: sha256(signed), ...(complete ? { status: 'signed' as const, publishedAt: now } : {}) })
        .where(eq(minutesVersions.id, v.id))
        .returning();
      if (complete) {
        await ctx.notifier.notify(q, (await participantIds(ctx.store, meetingId)).filter((id) => id !== user.id), 'minutes_published', meetingId, { version: v.version, title: a.meeting.title });
        const doc = v.content as MinutesDocument;
        await replaceIndexed(ctx.store, 'minutes', v.id, [{ meetingId, page: null, title: `Biên bản ${v.number}: ${doc.subject}`, body: blocksText(doc.blocks) }]);
      } else {
        const others = (
          await q
            .select({ id: meetingParticipants.userId })
            .from(meetingParticipants)
            .where(and(eq(meetingParticipants.meetingId, meetingId), eq(meetingParticipants.role, role === 'chair' ? 'secretary' : 'chair')))
        ).map((x) => x.id);
        await ctx.notifier.notify(q, others, 'minutes_to_sign', meetingId, { version: v.version, title: a.meeting.title });
      }
      await audit(q, { actorId: user.id, action: 'minutes.sign', targetType: 'meeting', targetId: meetingId, details: { version: v.version, role, certSubject: subject, certSerial: new crypto.X509Certificate(signer.certificatePem).serialNumber.toLowerCase(), certFingerprint: certificateFingerprint(signer.certificatePem) } });
      return { r: r!, complete };
    });
    ctx.notifier.flush();
    // Participants may now read the minutes document.
    if (out.complete) await ctx.yjs.recheck({ docName: minutesDocName(meetingId) });
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
export async function acknowledgeMinutes(ctx: AppContext, user: AuthUser, meetingId: number, version: number): Promise<void> {
  const a = await meetingAccess(ctx.store, user, meetingId);
  if (!a.role) throw forbidden('Only participants acknowledge the minutes');
  const v = await publishedVersion(ctx.store.q, meetingId);
  if (!v || v.version !== version) throw invalidState('This version of the minutes is not the published one');
  await ctx.store.tx(async (q) => {
    const added = await q.insert(minutesAcks).values({ versionId: v.id, userId: user.id }).onConflictDoNothing().returning({ userId: minutesAcks.userId });
    if (added.length) await audit(q, { actorId: user.id, action: 'minutes.acknowledge', targetType: 'meeting', targetId: meetingId, details: { version } });
  });
}

async function versionView(q: Q, user: AuthUser, v: VersionRow) {
  const signatures = await q
    .select({ role: minutesSignatures.role, userId: minutesSignatures.userId, fullName: users.fullName, certSubject: minutesSignatures.certSubject, signedAt: minutesSignatures.signedAt })
    .from(minutesSignatures)
    .innerJoin(users, eq(users.id, minutesSignatures.userId))
    .where(eq(minutesSignatures.versionId, v.id));
  const acknowledgements = await q
    .select({ userId: minutesAcks.userId, fullName: users.fullName, at: minutesAcks.at })
    .from(minutesAcks)
    .innerJoin(users, eq(users.id, minutesAcks.userId))
    .where(eq(minutesAcks.versionId, v.id));
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
async function visibleVersions(q: Q, a: MeetingAccess): Promise<VersionRow[]> {
  const all = await q.select().from(minutesVersions).where(eq(minutesVersions.meetingId, a.meeting.id)).orderBy(desc(minutesVersions.version));
  if (a.canManage || a.role === 'chair') return all;
  if (!a.role) return [];
  return all.filter((v) => v.publishedAt != null);
}

/** The minutes of a meeting as the caller sees them (refreshing the generated sections for editors). */
export async function minutesState(ctx: AppContext, user: AuthUser, meetingId: number): Promise<MinutesState> {
  const a = await meetingAccess(ctx.store, user, meetingId);
  if (a.canManage && a.meeting.status !== 'draft') await refreshGenerated(ctx, meetingId);
  const signAs = await signingRole(ctx, user, a);
  const versions = [];
  for (const v of await visibleVersions(ctx.store.q, a)) versions.push(await versionView(ctx.store.q, user, v));
  return { meetingId, canEdit: a.canManage, signAs, docName: minutesDocName(meetingId), versions };
}

/** One version with its frozen content (what the signer reviews). */
export async function minutesVersion(ctx: AppContext, user: AuthUser, meetingId: number, version: number) {
  const a = await meetingAccess(ctx.store, user, meetingId);
  const v = (await visibleVersions(ctx.store.q, a)).find((x) => x.version === version);
  if (!v) throw notFound('Minutes version');
  return { ...(await versionView(ctx.store.q, user, v)), content: (v.content as MinutesDocument).blocks };
}

/** The PDF of a version as signed so far. */
export async function minutesPdf(ctx: AppContext, user: AuthUser, meetingId: number, version: number): Promise<VersionRow> {
  const a = await meetingAccess(ctx.store, user, meetingId);
  const v = (await visibleVersions(ctx.store.q, a)).find((x) => x.version === version);
  if (!v) throw notFound('Minutes version');
  return v;
}

