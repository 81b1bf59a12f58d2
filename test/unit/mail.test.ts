import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { MailSendError, messageIdFor, senderDomain } from '../../server/mail/mail.service.js';
import { formatDeadline, renderReminderMail } from '../../server/mail/mail.templates.js';

describe('mail configuration', () => {
  it('without SMTP_URL mail is disabled; the sender and links default to the app address', () => {
    const c = loadConfig({ PORT: '4123' });
    expect(c.mail).toEqual({ smtpUrl: null, from: 'E-Cabinet <no-reply@localhost>', appUrl: 'http://localhost:4123' });
    const d = loadConfig({ SMTP_URL: 'smtp://u:p@mail.example.gov.vn:587', APP_URL: 'https://hop.example.gov.vn/' });
    expect(d.mail).toEqual({ smtpUrl: 'smtp://u:p@mail.example.gov.vn:587', from: 'E-Cabinet <no-reply@hop.example.gov.vn>', appUrl: 'https://hop.example.gov.vn' });
  });
  it('refuses an SMTP_URL that is not smtp:// or smtps://, and a relative APP_URL', () => {
    expect(() => loadConfig({ SMTP_URL: 'http://mail.example.gov.vn' })).toThrow(/SMTP_URL/);
    expect(() => loadConfig({ APP_URL: 'hop.example.gov.vn' })).toThrow(/APP_URL/);
  });
});

describe('Message-ID from the job key', () => {
  const from = 'Văn phòng <no-reply@ubnd.example.gov.vn>';
  it('is the same for the same key, different for another key, at the sender domain', () => {
    const a = messageIdFor('task:1:overdue:2026-01-01T01:00:00.000Z:mail:7', from);
    expect(messageIdFor('task:1:overdue:2026-01-01T01:00:00.000Z:mail:7', from)).toBe(a);
    expect(messageIdFor('task:1:overdue:2026-01-01T01:00:00.000Z:mail:8', from)).not.toBe(a);
    expect(a).toMatch(/^<[0-9a-f]{40}\.ecabinet@ubnd\.example\.gov\.vn>$/);
  });
  it('reads the domain of a bare address or a named one', () => {
    expect(senderDomain('no-reply@Hop.Example.gov.vn')).toBe('hop.example.gov.vn');
    expect(senderDomain('"E-Cabinet" <a@b.vn>')).toBe('b.vn');
    expect(senderDomain('nonsense')).toBe('localhost');
  });
});

describe('send errors', () => {
  it('keep the SMTP codes and drop the server text, which may quote addresses', () => {
    const raw = Object.assign(new Error("Can't send mail - all recipients were rejected: 550 5.1.1 <an.nv@noivu.gov.vn>: Recipient address rejected"), { code: 'EENVELOPE', responseCode: 550 });
    const e = MailSendError.from(raw);
    expect(e.message).toBe('e-mail not sent: EENVELOPE smtp 550');
    expect(e.message).not.toContain('@');
    expect(MailSendError.from('boom').message).toBe('e-mail not sent');
  });
});

describe('reminder e-mail text', () => {
  const data = { fullName: 'Nguyễn Văn An', title: 'Báo cáo <b>quý</b> & kế hoạch', deadline: '2026-05-20T01:00:00.000Z', meetingTitle: 'Phiên họp tháng 5', link: 'https://hop.example.gov.vn/tasks' };
  it('is Vietnamese by default, deadlines in Hanoi time, HTML escaped', () => {
    const m = renderReminderMail({ ...data, kind: 'task_due_soon' }, 'vi');
    expect(m.subject).toBe('[E-Cabinet] Nhiệm vụ sắp đến hạn: Báo cáo <b>quý</b> & kế hoạch');
    expect(m.text).toContain('08:00 20/05/2026');
    expect(m.text).toContain('Xem nhiệm vụ của tôi: https://hop.example.gov.vn/tasks');
    expect(m.html).toContain('Báo cáo &lt;b&gt;quý&lt;/b&gt; &amp; kế hoạch');
    expect(m.html).not.toContain('<b>quý');
    expect(formatDeadline('2026-05-20T01:00:00.000Z', 'en')).toBe('20/05/2026, 08:00');
  });
  it('has an English version of each kind and never puts a line break in the subject', () => {
    expect(renderReminderMail({ ...data, kind: 'task_overdue' }, 'en').subject).toBe('[E-Cabinet] Task overdue: Báo cáo <b>quý</b> & kế hoạch');
    expect(renderReminderMail({ ...data, kind: 'consultation_reminder', link: 'x' }, 'en').subject).toMatch(/^\[E-Cabinet\] Please answer the consultation: /);
    expect(renderReminderMail({ ...data, title: 'a\r\nBcc: x@y.vn', kind: 'consultation_reminder' }, 'vi').subject).toBe('[E-Cabinet] Nhắc trả lời lấy ý kiến: a Bcc: x@y.vn');
  });
});
