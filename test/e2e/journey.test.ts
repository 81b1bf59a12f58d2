import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PDFS } from '../integration/documents-helpers.js';
import { VIEWPORTS, axeViolations, collectProblems, launchBrowser, livePage, loginAs, newPage, screenshot, touchDrag } from '../helpers/browser.js';
import { buildMeeting } from '../helpers/factories.js';
import { type TestServer, startTestServer, until } from '../helpers/server.js';

/**
 * The whole meeting through the real UI, several browsers at once (issue #16, "Done when"):
 * the secretary prepares and publishes; members see it appear, read, annotate and search; the chair
 * opens the meeting, moves the agenda, gives the floor, presents (the followers' pages move) and runs
 * a vote; a conclusion is recorded and turned into a task; the minutes are finalized and signed; the
 * task's owner reports progress; the next meeting's agenda carries the open task.
 * Once at tablet size in Vietnamese, once at phone size in English. Every step is screenshotted
 * (`journey-<size>-<nn>-<step>-<lang>.png`) and every view visited is checked with axe-core.
 * Each run has its own committee (factories: chair, secretary, six members, one draft meeting nobody sees).
 */

let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface Run {
  size: 'tablet' | 'phone';
  lang: 'vi' | 'en';
}

const RUNS: Run[] = [
  { size: 'tablet', lang: 'vi' },
  { size: 'phone', lang: 'en' },
];

const tid = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`).first();


/** A datetime-local value `days` from now at `hour` o'clock (local time of the browser: Asia/Ho_Chi_Minh). */
function localInput(days: number, hour: number): string {
  const d = new Date(Date.now() + days * 86400_000 + 7 * 3600_000);
  return `${d.toISOString().slice(0, 10)}T${String(hour).padStart(2, '0')}:00`;
}

describe('journey: one meeting from preparation to follow-up, in the browser', () => {
  for (const run of RUNS) {
    it(`${run.size} in ${run.lang === 'vi' ? 'Vietnamese' : 'English'}: prepare, publish, read, annotate, search, open, agenda, floor, present, vote, conclude, task, minutes, sign, report, next agenda`, async () => {
      const tag = `${run.size}-${run.lang}`;
      const title = run.lang === 'vi' ? `Phiên họp chuyên đề chuyển đổi số ${run.size}` : `Digital transformation session ${run.size}`;
      const itemA = run.lang === 'vi' ? 'Báo cáo tiến độ chuyển đổi số' : 'Digital transformation progress report';
      const itemB = run.lang === 'vi' ? 'Kế hoạch số hóa hồ sơ năm 2027' : 'Records digitisation plan 2027';
      const taskTitle = run.lang === 'vi' ? `Hoàn thiện kế hoạch số hóa (${run.size})` : `Finalise the digitisation plan (${run.size})`;
      const viewport = run.size === 'tablet' ? VIEWPORTS.tablet : VIEWPORTS.phone;
      const axeFindings: Record<string, string[]> = {};
      let step = 0;
      let last = Date.now();
      /** Screenshot of a step, and axe-core on the view as it is. */
      const check = async (page: Page, name: string) => {
        step++;
        const t0 = Date.now();
        await screenshot(page, `journey-${run.size}-${String(step).padStart(2, '0')}-${name}`, run.lang);
        const found = await axeViolations(page);
        if (found.length) axeFindings[`${step} ${name}`] = found;
        console.log(`journey ${tag} step ${step} ${name}: ${t0 - last} ms of steps, ${Date.now() - t0} ms screenshot + axe`);
        last = Date.now();
      };

      // Six members: the two who check in stay short of the quorum (the chair opens with a reason).
      const c = await buildMeeting(server, { members: 6, agendaItems: 0, publish: false });
      const [sec, chair, m1, m2] = await Promise.all([0, 1, 2, 3].map(() => newPage(browser, server.url, { viewport, hasTouch: true })));
      // Five browsers on a shared 2-core machine: single actions may take long under load.
      for (const p of [sec, chair, m1, m2]) p.setDefaultTimeout(90_000);
      const problems = [sec, chair, m1, m2].map((p) => collectProblems(p));
      await Promise.all([loginAs(sec, c.secretary), loginAs(chair, c.chair), loginAs(m1, c.members[0]), loginAs(m2, c.members[1])]);
      for (const p of [sec, chair, m1, m2]) {
        await p.locator(`ec-language-switch button[lang="${run.lang}"]`).first().click();
        await expect.poll(() => p.locator('html').getAttribute('lang')).toBe(run.lang);
      }

      // 1. The secretary prepares: meeting, agenda of two items, a document on the first.
      await sec.locator('[data-testid="new-meeting"]').click();
      await sec.waitForURL(/\/meetings\/new$/);
      const form = sec.locator('ec-meeting-editor-view form.meeting');
      await form.locator('input[name="title"]').fill(title);
      await expect.poll(() => form.locator('[data-testid="participant-rows"] tbody tr').count()).toBe(2 + c.members.length);
      await form.locator('[data-testid="save-meeting"]').click();
      await sec.waitForURL(/\/meetings\/\d+\/edit$/);
      const meetingId = Number(/\/meetings\/(\d+)\/edit/.exec(sec.url())![1]);
      for (const t of [itemA, itemB]) {
        await sec.locator('[data-testid="add-item"]').click();
        const itemForm = sec.locator('ec-agenda-builder [data-testid="item-form"]');
        await itemForm.locator('input[name="title"]').fill(t);
        await itemForm.locator('button[type="submit"]').click();
        await sec.locator('ec-agenda-builder li.row[data-number]', { hasText: t }).waitFor();
      }
      await check(sec, 'secretary-agenda');
      const agenda = (await sec.evaluate((id) => fetch(`/api/meetings/${id}/agenda`).then((r) => r.json()), meetingId)) as { items: { id: number; title: string }[] };
      const itemAId = agenda.items.find((i) => i.title === itemA)!.id;

      await sec.goto(`/meetings/${meetingId}/documents`);
      const packItem = sec.locator(`ec-meeting-pack-view li.item[data-item="${itemAId}"]`);
      await packItem.locator('ec-document-upload input[type=file]').setInputFiles(`${PDFS}/tracemonkey.pdf`);
      await packItem.locator('li.doc', { hasText: 'tracemonkey' }).waitFor({ timeout: 60_000 });
      await check(sec, 'secretary-pack');

      // 2. Publish: the members' meeting lists (open meanwhile) show it without reloading.
      await Promise.all([m1.goto('/meetings'), m2.goto('/meetings')]);
      await tid(m1, 'meeting-list').or(tid(m1, 'meetings-empty')).waitFor();
      await sec.goto(`/meetings/${meetingId}/edit`);
      await tid(sec, 'publish').click();
      await tid(sec, 'confirm-publish').click();
      await expect.poll(() => sec.locator('ec-meeting-editor-view [data-testid="meeting-status"]').getAttribute('class')).toContain('published');
      for (const p of [m1, m2]) await p.locator('[data-testid="meeting-list"] li', { hasText: title }).waitFor({ timeout: 20_000 });
      await check(m1, 'member-list');

      // 3. The first member reads the document and annotates it (ink, shared with the meeting).
      await m1.locator('[data-testid="meeting-list"] li', { hasText: title }).locator('a').first().click();
      await m1.waitForURL(new RegExp(`/meetings/${meetingId}$`));
      await tid(m1, 'meeting-title').waitFor();
      await check(m1, 'member-detail');
      await m1.goto(`/meetings/${meetingId}/documents`);
      await m1.locator('ec-meeting-pack-view a.open').first().click();
      await m1.waitForURL(/\/documents\/\d+/);
      await m1.locator('ec-pdf-viewer .pg[data-page="1"][data-rendered="true"]').waitFor({ timeout: 40_000 });
      await m1.locator('ec-document-view [data-testid="annotate-toggle"]').click();
      const tools = m1.locator('ec-document-view ec-document-annotations');
      await tools.locator('.status.online').waitFor({ timeout: 30_000 });
      await tools.locator('button[data-tool="pen"]').click();
      const svg = (await m1.locator('ec-pdf-viewer .pg[data-page="1"] ec-annotation-layer svg').boundingBox())!;
      await touchDrag(m1, { x: svg.x + svg.width * 0.2, y: svg.y + Math.min(svg.height, 400) * 0.5 }, { x: svg.x + svg.width * 0.6, y: svg.y + Math.min(svg.height, 400) * 0.55 }, 10);
      await m1.locator('ec-annotation-layer g.own [data-kind="ink"]').first().waitFor({ timeout: 10_000 });
      await tools.locator('[data-testid="share-all"]').click();
      await tools.locator('button[data-tool="read"]').click();
      await check(m1, 'member-annotates');

      // 4. The second member searches and finds the agenda item.
      await m2.goto(`/search?q=${encodeURIComponent(run.lang === 'vi' ? 'tien do chuyen doi so' : 'transformation progress')}`);
      await m2.locator('ec-search-view a', { hasText: itemA }).first().waitFor({ timeout: 30_000 });
      await check(m2, 'member-search');
      // ...and sees the first member's shared ink on the document.
      await m2.goto(`/meetings/${meetingId}/documents`);
      await m2.locator('ec-meeting-pack-view a.open').first().click();
      await m2.locator('ec-annotation-layer g.shared [data-kind="ink"]').first().waitFor({ state: 'attached', timeout: 30_000 });

      // 5. The meeting: members check in from their live view, the chair opens it from the console.
      await Promise.all([m1.goto(`/meetings/${meetingId}/live`), m2.goto(`/meetings/${meetingId}/live`), chair.goto(`/meetings/${meetingId}/console`)]);
      for (const p of [m1, m2]) {
        await tid(p, 'bar-check-in').click();
        await tid(p, 'bar-check-in').waitFor({ state: 'detached' });
      }
      await tid(chair, 'override-reason').fill(run.lang === 'vi' ? 'Họp chuyên đề, đủ thành phần chủ chốt' : 'Thematic session, key members present');
      await tid(chair, 'open-meeting').click();
      await expect.poll(() => tid(m1, 'current-item').textContent(), { timeout: 15_000 }).toContain(itemA);
      await check(chair, 'chair-opens');

      // 6. The agenda moves on and back; the members' bar follows.
      await tid(chair, 'next-item').click();
      await expect.poll(() => tid(m2, 'current-item').textContent(), { timeout: 15_000 }).toContain(itemB);
      await tid(chair, 'prev-item').click();
      await expect.poll(() => tid(m2, 'current-item').textContent(), { timeout: 15_000 }).toContain(itemA);

      // 7. The first member asks for the floor, the chair gives it: the second sees who speaks and the timer.
      await tid(m1, 'ask-speech').click();
      await tid(m1, 'my-request').waitFor();
      await chair.locator('[data-testid^="grant-"]').first().click();
      await expect.poll(() => tid(m2, 'speaker').textContent(), { timeout: 15_000 }).toContain(c.members[0].fullName);
      await tid(m1, 'my-floor').waitFor();
      await check(m2, 'member-live-floor');

      // 8. The chair presents the document from the live view; the followers' pages move with it.
      const present = await newPage(browser, server.url, { viewport, hasTouch: true });
      present.setDefaultTimeout(90_000);
      await present.context().addCookies(await chair.context().cookies());
      await present.goto(`/meetings/${meetingId}/live`);
      const select = tid(present, 'doc-select');
      await until(async () => (await select.locator('option').count()) > 1, { what: 'document list' });
      await select.selectOption({ index: 1 });
      await until(async () => !(await present.locator('ec-pdf-viewer input[name="page"]').isDisabled()), { what: 'presenter viewer ready', timeout: 30_000 });
      await tid(present, 'present').check();
      for (const p of [m1, m2]) await until(async () => (await livePage(p)) === 1, { what: 'follower on page 1', timeout: 30_000 });
      const pageInput = present.locator('ec-pdf-viewer input[name="page"]');
      await pageInput.fill('4');
      await pageInput.press('Enter');
      for (const p of [m1, m2]) await until(async () => (await livePage(p)) === 4, { what: 'follower on page 4', timeout: 20_000 });
      await check(m2, 'member-follows-presenter');
      await check(present, 'chair-presents');

      // 9. A vote: the chair prepares and opens it; both members vote; the chair closes and announces.
      await chair.bringToFront();
      const voteConsole = chair.locator('ec-vote-console');
      const details = voteConsole.locator('details');
      if (!(await details.evaluate((d) => (d as HTMLDetailsElement).open))) await details.locator('summary').click();
      await voteConsole.locator('input[name="title"]').fill(run.lang === 'vi' ? 'Thông qua kế hoạch số hóa hồ sơ năm 2027' : 'Approve the 2027 records digitisation plan');
      await tid(chair, 'vote-create').click();
      // Two members are checked in, short of the quorum: the vote opens with a recorded reason, like the meeting.
      await tid(chair, 'vote-override-reason').fill(run.lang === 'vi' ? 'Họp chuyên đề, đủ thành phần chủ chốt' : 'Thematic session, key members present');
      await tid(chair, 'vote-open').click();
      for (const p of [m1, m2]) {
        await tid(p, 'vote-choice-0').click();
        await tid(p, 'vote-confirm').click();
        await tid(p, 'vote-recorded').waitFor({ timeout: 15_000 });
      }
      await check(m1, 'member-voted');
      await expect.poll(() => tid(chair, 'console-progress').textContent(), { timeout: 15_000 }).toMatch(/^2\b/);
      await tid(chair, 'vote-close').click();
      await tid(chair, 'vote-announce').click();
      await expect.poll(() => chair.locator('[data-testid="console-vote"]').first().getAttribute('data-state'), { timeout: 15_000 }).toBe('announced');
      await check(chair, 'chair-vote-announced');

      // 10. The secretary records the conclusion of item 1 and turns it into a task for the first member.
      await sec.goto(`/meetings/${meetingId}`);
      const section = sec.locator(`[data-testid="conclusions-item-${itemAId}"]`);
      await section.locator('[data-testid="add-conclusion"]').click();
      await section.locator('input[type="radio"][value="assignment"]').check();
      await section.locator('[data-testid="conclusion-text"]').fill(run.lang === 'vi' ? `Giao đồng chí ${c.members[0].fullName} hoàn thiện kế hoạch số hóa, trình kỳ họp sau.` : `${c.members[0].fullName} to finalise the digitisation plan for the next meeting.`);
      await section.locator('[data-testid="conclusion-submit"]').click();
      const conclusion = section.locator('[data-testid="conclusion"]').first();
      await conclusion.waitFor();
      await conclusion.locator('[data-testid="assign-task"]').click();
      const taskForm = conclusion.locator('[data-testid="task-form"]');
      await taskForm.locator('[data-testid="task-title"]').fill(taskTitle);
      await taskForm.locator('[data-testid="task-owner"]').selectOption(`user:${c.members[0].id}`);
      await taskForm.locator('[data-testid="task-submit"]').click();
      await conclusion.locator('[data-testid="conclusion-task"]', { hasText: taskTitle }).waitFor();
      await check(sec, 'secretary-conclusion-task');

      // 11. The chair closes the meeting; the minutes are finalized and signed by the chair and the secretary.
      chair.once('dialog', (d) => void d.accept());
      await tid(chair, 'close-meeting').click();
      await expect.poll(() => chair.locator('ec-chair-console-view [data-testid="meeting-status"]').textContent(), { timeout: 15_000 }).toMatch(run.lang === 'vi' ? /Đã kết thúc/ : /Closed/);
      await sec.goto(`/meetings/${meetingId}/minutes`);
      await sec.locator('ec-minutes-view h1').waitFor();
      await sec.locator('ec-minutes-view section.generated ec-minutes-blocks').first().waitFor({ timeout: 20_000 });
      await tid(sec, 'finalize').click();
      await tid(sec, 'minutes-version-1').waitFor({ timeout: 60_000 });
      for (const [p, role] of [
        [chair, 'chair'],
        [sec, 'secretary'],
      ] as const) {
        if (p === chair) await chair.goto(`/meetings/${meetingId}/minutes`);
        else await sec.reload();
        await tid(p, 'minutes-version-1').waitFor({ timeout: 20_000 });
        await tid(p, 'sign-open').click();
        await tid(p, 'sign-pin').fill('123456');
        await tid(p, 'sign-confirm').click();
        await p.locator('ec-sign-dialog').waitFor({ state: 'detached', timeout: 60_000 });
        await tid(p, `signature-${role}`).waitFor({ timeout: 20_000 });
      }
      await check(sec, 'minutes-signed');

      // 12. The first member reports progress on the task from "my tasks".
      await m1.goto('/tasks');
      const card = m1.locator('ec-task-card').filter({ hasText: taskTitle });
      await card.waitFor({ timeout: 20_000 });
      await card.locator('[data-testid="progress-comment"]').fill(run.lang === 'vi' ? 'Đã có dự thảo lần 1, đang lấy ý kiến các sở.' : 'First draft ready, consulting the departments.');
      await card.locator('input[type="number"]').fill('40');
      await card.locator('button[type="submit"]').click();
      await card.locator('[data-testid="history-toggle"]').click();
      await card.locator('[data-testid="history-event"]').filter({ hasText: run.lang === 'vi' ? 'Đã có dự thảo lần 1' : 'First draft ready' }).waitFor({ timeout: 15_000 });
      await check(m1, 'owner-reports');

      // 13. The next meeting: its agenda carries the open task.
      await sec.goto('/meetings/new');
      const next = sec.locator('ec-meeting-editor-view form.meeting');
      await next.locator('input[name="title"]').fill(`${title} (2)`);
      await next.locator('input[name="startsAt"]').fill(localInput(30, 8));
      await next.locator('input[name="endsAt"]').fill(localInput(30, 11));
      await expect.poll(() => next.locator('[data-testid="participant-rows"] tbody tr').count()).toBe(2 + c.members.length);
      await next.locator('[data-testid="save-meeting"]').click();
      await sec.waitForURL(/\/meetings\/\d+\/edit$/);
      await tid(sec, 'publish').click();
      await tid(sec, 'confirm-publish').click();
      await expect.poll(() => sec.locator('ec-meeting-editor-view [data-testid="meeting-status"]').getAttribute('class')).toContain('published');
      const nextId = Number(/\/meetings\/(\d+)\/edit/.exec(sec.url())![1]);
      await m1.goto(`/meetings/${nextId}`);
      await m1.locator('ec-agenda-tree li', { hasText: taskTitle }).waitFor({ timeout: 20_000 });
      await check(m1, 'next-agenda');

      expect(axeFindings).toEqual({});
      for (const pr of problems) expect(pr.errors).toEqual([]);
      for (const p of [sec, chair, m1, m2, present]) await p.context().close();
    }, 1_500_000);
  }
});
