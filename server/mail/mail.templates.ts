/**
 * The text of reminder e-mails: subject, plain text and a simple HTML part, in the recipient's
 * language (Vietnamese unless they chose English). Pure functions: the mail job loads the data
 * from the database at send time and passes it here.
 */

export type MailLocale = 'vi' | 'en';

/** What a reminder e-mail is about (the same names as the in-app notifications). */
export type ReminderMailKind = 'task_due_soon' | 'task_overdue' | 'consultation_reminder';

export interface ReminderMailData {
  kind: ReminderMailKind;
  /** Recipient's full name, for the salutation. */
  fullName: string;
  /** Task or consultation title. */
  title: string;
  /** ISO date-time. */
  deadline: string;
  /** The meeting a task came from (tasks only). */
  meetingTitle?: string | null;
  /** Absolute link to the page where the user acts (my tasks, consultations). */
  link: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

/** Deadline as people read it in Vietnam: Asia/Ho_Chi_Minh, 24-hour clock. */
export function formatDeadline(iso: string, locale: MailLocale): string {
  return new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'vi-VN', {
    timeZone: 'Asia/Ho_Chi_Minh',
    hour: '2-digit',
    minute: '2-digit',
    day: '2-digit',
    month: '2-digit',
    year: 'numeric',
  }).format(new Date(iso));
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** Titles are single lines already; a header never gets a line break from user input. */
const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ').trim();

interface Parts {
  subject: string;
  greeting: string;
  lines: string[];
  action: string;
  footer: string;
}

function parts(d: ReminderMailData, locale: MailLocale): Parts {
  const title = oneLine(d.title);
  const deadline = formatDeadline(d.deadline, locale);
  const meeting = d.meetingTitle ? oneLine(d.meetingTitle) : null;
  if (locale === 'en') {
    const footer = 'This message was sent automatically by E-Cabinet. Please do not reply.';
    switch (d.kind) {
      case 'task_due_soon':
        return {
          subject: `[E-Cabinet] Task due soon: ${title}`,
          greeting: `Dear ${d.fullName},`,
          lines: [`The task "${title}"${meeting ? ` (meeting: ${meeting})` : ''} is due at ${deadline} (Vietnam time).`, 'Please complete it and report your progress in E-Cabinet.'],
          action: 'Open my tasks',
          footer,
        };
      case 'task_overdue':
        return {
          subject: `[E-Cabinet] Task overdue: ${title}`,
          greeting: `Dear ${d.fullName},`,
          lines: [`The task "${title}"${meeting ? ` (meeting: ${meeting})` : ''} was due at ${deadline} (Vietnam time) and is not completed yet.`, 'Please report its progress or result in E-Cabinet.'],
          action: 'Open my tasks',
          footer,
        };
      case 'consultation_reminder':
        return {
          subject: `[E-Cabinet] Please answer the consultation: ${title}`,
          greeting: `Dear ${d.fullName},`,
          lines: [`You have not yet answered the written consultation "${title}".`, `Answers are accepted until ${deadline} (Vietnam time).`],
          action: 'Answer now',
          footer,
        };
    }
  }
  const footer = 'Thư này được gửi tự động từ hệ thống E-Cabinet. Vui lòng không trả lời thư này.';
  switch (d.kind) {
    case 'task_due_soon':
      return {
        subject: `[E-Cabinet] Nhiệm vụ sắp đến hạn: ${title}`,
        greeting: `Kính gửi ${d.fullName},`,
        lines: [`Nhiệm vụ "${title}"${meeting ? ` (phiên họp: ${meeting})` : ''} có hạn hoàn thành lúc ${deadline}.`, 'Đề nghị đồng chí khẩn trương thực hiện và cập nhật tiến độ trên E-Cabinet.'],
        action: 'Xem nhiệm vụ của tôi',
        footer,
      };
    case 'task_overdue':
      return {
        subject: `[E-Cabinet] Nhiệm vụ quá hạn: ${title}`,
        greeting: `Kính gửi ${d.fullName},`,
        lines: [`Nhiệm vụ "${title}"${meeting ? ` (phiên họp: ${meeting})` : ''} đã quá hạn (hạn ${deadline}) nhưng chưa hoàn thành.`, 'Đề nghị đồng chí báo cáo tiến độ hoặc kết quả thực hiện trên E-Cabinet.'],
        action: 'Xem nhiệm vụ của tôi',
        footer,
      };
    case 'consultation_reminder':
      return {
        subject: `[E-Cabinet] Nhắc trả lời lấy ý kiến: ${title}`,
        greeting: `Kính gửi ${d.fullName},`,
        lines: [`Đồng chí chưa trả lời phiếu lấy ý kiến bằng văn bản "${title}".`, `Hạn trả lời: ${deadline}.`],
        action: 'Trả lời ngay',
        footer,
      };
  }
}

/** Subject, plain text and HTML of a reminder e-mail in `locale`. */
export function renderReminderMail(d: ReminderMailData, locale: MailLocale): RenderedMail {
  const p = parts(d, locale);
  const text = [p.greeting, '', ...p.lines, '', `${p.action}: ${d.link}`, '', '--', p.footer, ''].join('\n');
  const html = `<!doctype html>
<html lang="${locale}"><head><meta charset="utf-8"><title>${escapeHtml(p.subject)}</title></head>
<body style="font-family: Arial, Helvetica, sans-serif; font-size: 15px; line-height: 1.5; color: #1f2933">
<p>${escapeHtml(p.greeting)}</p>
${p.lines.map((l) => `<p>${escapeHtml(l)}</p>`).join('\n')}
<p><a href="${escapeHtml(d.link)}" style="display: inline-block; padding: 10px 18px; background: #1d4ed8; color: #ffffff; text-decoration: none; border-radius: 6px">${escapeHtml(p.action)}</a></p>
<p style="font-size: 13px; color: #6b7280">${escapeHtml(p.footer)}</p>
</body></html>
`;
  return { subject: p.subject, text, html };
}
