import type { Catalog } from './catalog.js';

/** English for 'meetings.*': list, detail, editor. */
export const meetings: Catalog = {
  'meetings.status.draft': 'Draft',
  'meetings.status.published': 'Published',
  'meetings.status.live': 'In session',
  'meetings.status.paused': 'Paused',
  'meetings.status.closed': 'Closed',
  'meetings.role.chair': 'Chair',
  'meetings.role.secretary': 'Secretary',
  'meetings.role.member': 'Member',
  'meetings.role.guest': 'Guest',
  'meetings.mode.inPerson': 'In person',
  'meetings.mode.hybrid': 'Hybrid',
  'meetings.mode.online': 'Online',
  'meetings.quorum.majority': 'Majority (more than half of the voting members)',
  'meetings.quorum.twoThirds': 'At least two thirds of the voting members',
  'meetings.quorum.count': 'Minimum number of members',
  'meetings.tab.upcoming': 'Upcoming',
  'meetings.tab.live': 'In session',
  'meetings.tab.past': 'Past',
  'meetings.title': 'Meetings',
  'meetings.create': 'New meeting',
  'meetings.loadFailed': 'The meeting list could not be loaded.',
  'meetings.empty.upcoming': 'No upcoming meetings.',
  'meetings.empty.live': 'No meeting is in session.',
  'meetings.empty.past': 'No past meetings yet.',
};
