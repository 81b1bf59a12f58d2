import crypto from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VIEWPORTS, collectProblems, expectAxeClean, launchBrowser, login, newPage, screenshot, smallTouchTargets } from '../helpers/browser.js';
import { buildUser } from '../helpers/factories.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

let server: TestServer;
let browser: Browser;
beforeAll(async () => {
  server = await startTestServer({ seed: 'admin' });
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

// One journey in steps: they share the browsers, the server and the meeting, and run in the order written
// (CI shuffles the files and the unit and integration tests; see scripts/test.sh).
describe('my account in the browser', { shuffle: false }, () => {
  it('a user reaches "my account" from the header, changes their password, sees their sessions (vi, tablet; axe-clean, 44 px)', async () => {
    const u = await buildUser(server);
    const page = await newPage(browser, server.url);
    const problems = collectProblems(page);
    await login(page, u.username, { password: u.password });
    await page.locator('[data-testid="current-user"]').click();
    await page.waitForURL(/\/account$/);
    await page.locator('ec-account-view h1').waitFor();
    await page.locator('ec-account-view li').first().waitFor();
    expect(await page.locator('ec-account-view li').count()).toBe(1);
    await expectAxeClean(page, { label: 'account vi' });
    expect(await smallTouchTargets(page)).toEqual([]);
    await screenshot(page, 'account', 'vi');

    const next = `Sông-Hồng-${crypto.randomBytes(6).toString('base64url')}`;
    await page.locator('ec-account-view input[name="current"]').fill(u.password);
    await page.locator('ec-account-view input[name="new"]').fill('ngan');
    await page.locator('ec-account-view input[name="confirm"]').fill('ngan');
    await page.getByRole('button', { name: 'Đổi mật khẩu' }).click();
    await page.locator('ec-account-view .error').waitFor();
    expect(await page.locator('ec-account-view .error').textContent()).toContain('12 ký tự');
    await page.locator('ec-account-view input[name="new"]').fill(next);
    await page.locator('ec-account-view input[name="confirm"]').fill(next);
    await page.getByRole('button', { name: 'Đổi mật khẩu' }).click();
    await page.locator('ec-account-view .notice').waitFor();
    // Still signed in (the session was re-issued), and the new password works elsewhere.
    await page.goto('/meetings');
    await page.locator('[data-testid="current-user"]').waitFor({ state: 'attached' });
    expect((await server.anonymous().post('/api/auth/login', { username: u.username, password: next })).status).toBe(200);
    expect(problems.errors).toEqual([]);
    expect(problems.csp).toEqual([]);
  }, 120_000);

  it('after an admin reset the app opens only "my account" until a new password is chosen (en, phone; axe-clean, 44 px)', async () => {
    const u = await buildUser(server);
    const admin = await server.login('admin');
    const temporary = `Tạm-thời-${crypto.randomBytes(6).toString('base64url')}`;
    expect((await admin.patch(`/api/users/${u.id}`, { password: temporary })).status).toBe(200);
    const page = await newPage(browser, server.url, { viewport: VIEWPORTS.phone, locale: 'en-GB' });
    await page.goto('/login');
    await page.locator('ec-login-view ec-language-switch button[lang="en"]').click();
    await login(page, u.username, { password: temporary, expectPath: /\/account$/ });
    await page.locator('ec-account-view .notice').waitFor();
    expect(await page.locator('ec-account-view .notice').textContent()).toContain('reset your password');
    await page.goto('/meetings');
    await page.waitForURL(/\/account$/);
    await expectAxeClean(page, { label: 'account en phone' });
    expect(await smallTouchTargets(page)).toEqual([]);
    await screenshot(page, 'account-reset', 'en');
    const next = `River-Mekong-${crypto.randomBytes(6).toString('base64url')}`;
    await page.locator('ec-account-view input[name="current"]').fill(temporary);
    await page.locator('ec-account-view input[name="new"]').fill(next);
    await page.locator('ec-account-view input[name="confirm"]').fill(next);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.waitForURL(/\/meetings/);
  }, 120_000);
});
