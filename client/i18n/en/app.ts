import { str } from '@lit/localize';
import type { Catalog } from './catalog.js';

/** English for the shell: 'app.*', 'login.*', 'notifications.*'. */
export const app: Catalog = {
  'app.loading': 'Loading…',
  'app.viewLoadFailed': 'The page could not be loaded. Check the connection and try again.',
  'app.retry': 'Try again',
  'app.notFound': 'Page not found',
  'app.notFoundHint': 'This page does not exist or you are not allowed to see it.',
  'app.backToMeetings': 'Back to meetings',
  'app.tagline': 'Paperless meeting room',
  'app.mainNav': 'Main navigation',
  'app.nav.meetings': 'Meetings',
  'app.nav.users': 'Users',
  'app.nav.committees': 'Committees',
  'app.nav.rooms': 'Rooms',
  'app.logout': 'Sign out',
  'app.language': 'Language',
  'app.offline': 'Offline — reconnecting',
  'app.networkError': 'Cannot reach the server.',

  'login.invalid': 'Wrong username or password.',
  'login.rateLimited': 'Too many failed sign-ins. Please try again in a few minutes.',
  'login.disabled': 'This account is disabled. Contact the administrator.',
  'login.network': 'Cannot reach the server.',
  'login.failed': 'Sign-in failed. Please try again.',
  'login.subtitle': 'Paperless meeting system',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',

  'notifications.meetingPublished': str`You are invited to: ${0}`,
  'notifications.meetingUpdated': str`Meeting changed: ${0}`,
  'notifications.agendaUpdated': str`Agenda updated: ${0}`,
  'notifications.generic': 'New notification',
  'notifications.bellLabel': str`Notifications (${0} unread)`,
  'notifications.title': 'Notifications',
  'notifications.readAll': 'Mark all as read',
  'notifications.loadFailed': 'Notifications could not be loaded.',
  'notifications.empty': 'No notifications yet.',
  'app.cancel': 'Cancel',
  'app.save': 'Save',
};
