import type { ServerModule } from '../context.js';
import { mailJobs } from './mail.service.js';

/** Reminder e-mails: the `mail.send` job kind when SMTP_URL is set. */
export const mailModule: ServerModule = { name: 'mail', register: mailJobs };
