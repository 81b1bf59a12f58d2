import { ROUTES, type RouteDef } from '../routes.js';

/** A matched route with its path parameters (`/meetings/:id` → `{ id: '7' }`) and query. */
export interface RouteMatch {
  route: RouteDef;
  params: Record<string, string>;
  query: URLSearchParams;
  path: string;
}

const compiled = ROUTES.map((route) => {
  const names: string[] = [];
  const re = new RegExp(
    '^' +
      route.path.replace(/\/$/, '').replace(/:([A-Za-z_]\w*)/g, (_m, n: string) => {
        names.push(n);
        return '([^/]+)';
      }) +
      '/?$',
  );
  return { route, re, names };
});

/** The first route of ROUTES whose pattern matches `pathname`, or null. */
export function matchRoute(pathname: string, search = ''): RouteMatch | null {
  for (const c of compiled) {
    const m = c.re.exec(pathname);
    if (m) {
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
      return { route: c.route, params, query: new URLSearchParams(search), path: pathname };
    }
  }
  return null;
}

/** Client-side navigation (history API). `<ec-app>` listens for `ec-navigate` on window. */
export function navigate(to: string, { replace = false } = {}): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  window.dispatchEvent(new Event('ec-navigate'));
}
