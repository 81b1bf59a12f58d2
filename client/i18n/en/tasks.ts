import { str } from '@lit/localize';
import type { Catalog } from './catalog.js';

/** Progress reports with attachments and the task history (the rest of tasks.* is in minutes.ts). */
export const tasks: Catalog = {
  'tasks.attach.conflict': 'The task just changed; reload the page.',
  'tasks.attach.failed': str`Sending the report failed (code ${0}).`,
  'tasks.attach.forbidden': 'You may not report progress on this task.',
  'tasks.attach.hint': str`Up to ${0} files, ${1} MB each: PDF, images, Word, Excel, plain text.`,
  'tasks.attach.invalid': 'The Word/Excel file is damaged and cannot be read.',
  'tasks.attach.list': 'Attached files',
  'tasks.attach.network': 'The connection dropped while sending; the report was not saved, try again.',
  'tasks.attach.pick': 'Attach files',
  'tasks.attach.remove': str`Remove ${0}`,
  'tasks.attach.sending': 'Sending the report…',
  'tasks.attach.text': 'Text',
  'tasks.attach.tooLarge': str`Each file may be at most ${0} MB.`,
  'tasks.attach.tooMany': str`At most ${0} files per report.`,
  'tasks.attach.type': 'File type not accepted (judged by its content): only PDF, PNG/JPEG images, Word (docx), Excel (xlsx) and plain text.',
  'tasks.history': 'History',
  'tasks.history.created': 'Task assigned',
  'tasks.history.edited': 'Updated',
  'tasks.history.error': 'Could not load the history.',
  'tasks.attach.doneHint': 'Send the report with the chosen files first, then report the task done.',
};
