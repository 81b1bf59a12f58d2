/**
 * The client's route table. To add a view: write `client/views/ec-<name>-view.ts` (one Lit element
 * with a `params: Record<string, string>` property) and add ONE entry here with a lazy import —
 * the view's code is then only loaded when its route is visited. First match wins; keep specific
 * paths above general ones.
 */
export interface RouteDef {
  /** Path pattern, `:name` segments become `params.name`. */
  path: string;
  /** Custom element tag the route renders; receives `params` and `query` properties. */
  tag: string;
  /** Lazy import of the module that defines `tag`. */
  load: () => Promise<unknown>;
  /** Reachable without signing in (login). Default false. */
  public?: boolean;
  /** Only for admins (others see "not found"). Default false. */
  admin?: boolean;
  /** A kiosk screen (the room's big display): no app header, menu or logout button. Default false. */
  kiosk?: boolean;
  /** Header navigation this route belongs to (highlights the tab). */
  section?: 'meetings' | 'admin';
}

export const ROUTES: RouteDef[] = [
  { path: '/documents/:id/annotate', tag: 'ec-annotate-view', load: () => import('./views/ec-annotate-view.js'), section: 'meetings' },
  { path: '/meetings/:id/annotations', tag: 'ec-my-annotations-view', load: () => import('./views/ec-my-annotations-view.js'), section: 'meetings' },
  { path: '/documents/:id', tag: 'ec-document-view', load: () => import('./views/ec-document-view.js'), section: 'meetings' },
  { path: '/meetings/:id/documents', tag: 'ec-meeting-pack-view', load: () => import('./views/ec-meeting-pack-view.js'), section: 'meetings' },
  { path: '/consultations', tag: 'ec-consultations-view', load: () => import('./views/ec-consultations-view.js') },
  { path: '/account', tag: 'ec-account-view', load: () => import('./views/ec-account-view.js') },
  { path: '/search', tag: 'ec-search-view', load: () => import('./views/ec-search-view.js') },
  { path: '/login', tag: 'ec-login-view', load: () => import('./views/ec-login-view.js'), public: true },
  { path: '/', tag: 'ec-meeting-list-view', load: () => import('./views/ec-meeting-list-view.js'), section: 'meetings' },
  { path: '/meetings', tag: 'ec-meeting-list-view', load: () => import('./views/ec-meeting-list-view.js'), section: 'meetings' },
  { path: '/meetings/new', tag: 'ec-meeting-editor-view', load: () => import('./views/ec-meeting-editor-view.js'), section: 'meetings' },
  { path: '/meetings/:id/edit', tag: 'ec-meeting-editor-view', load: () => import('./views/ec-meeting-editor-view.js'), section: 'meetings' },
  { path: '/meetings/:id/av', tag: 'ec-av-view', load: () => import('./views/ec-av-view.js'), section: 'meetings' },
  { path: '/meetings/:id/live', tag: 'ec-live-view', load: () => import('./views/ec-live-view.js'), section: 'meetings' },
  { path: '/meetings/:id/console', tag: 'ec-chair-console-view', load: () => import('./views/ec-chair-console-view.js'), section: 'meetings' },
  { path: '/meetings/:id/display', tag: 'ec-room-display-view', load: () => import('./views/ec-room-display-view.js'), kiosk: true },
  { path: '/meetings/:id/minutes', tag: 'ec-minutes-view', load: () => import('./views/ec-minutes-view.js'), section: 'meetings' },
  { path: '/tasks', tag: 'ec-my-tasks-view', load: () => import('./views/ec-my-tasks-view.js') },
  { path: '/committees/:id/tasks', tag: 'ec-task-board-view', load: () => import('./views/ec-task-board-view.js'), section: 'meetings' },
  { path: '/meetings/:id', tag: 'ec-meeting-detail-view', load: () => import('./views/ec-meeting-detail-view.js'), section: 'meetings' },
  { path: '/admin/users', tag: 'ec-admin-users-view', load: () => import('./views/ec-admin-users-view.js'), admin: true, section: 'admin' },
  { path: '/admin/committees', tag: 'ec-admin-committees-view', load: () => import('./views/ec-admin-committees-view.js'), admin: true, section: 'admin' },
  { path: '/admin/rooms', tag: 'ec-admin-rooms-view', load: () => import('./views/ec-admin-rooms-view.js'), admin: true, section: 'admin' },
];
