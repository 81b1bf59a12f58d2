import { createContext } from '@lit/context';
import type { Me } from '../../shared/protocol/auth.js';
import type { Locale } from '../../shared/protocol/auth.js';
import type { Api } from './api.js';

/**
 * Contexts provided by <ec-app> to every view and component. Consume them with
 * `@consume({ context: apiContext }) private api!: Api;` — add `subscribe: true` for values that
 * change (`meContext`, `localeContext`).
 */
export const apiContext = createContext<Api>(Symbol('ec-api'));
/** The signed-in user, or null on the login page. */
export const meContext = createContext<Me | null>(Symbol('ec-me'));
/** The interface language ('vi' is the source locale). */
export const localeContext = createContext<Locale>(Symbol('ec-locale'));
