/**
 * Names shared by the app's offline service and the service worker. One Cache Storage cache holds every
 * response the app stored for offline meetings; it is deleted whole at logout and on a remote wipe.
 */
export const OFFLINE_CACHE = 'ec-offline-v1';

/** localStorage key of this device's random token (sent as `x-ec-device`; see docs/OFFLINE.md). */
const DEVICE_KEY = 'ec-device';

/** This device's token: 32 random bytes, base64url, made once per browser profile (null outside a browser). */
export function deviceToken(): string | null {
  if (typeof localStorage === 'undefined') return null;
  let t = localStorage.getItem(DEVICE_KEY);
  if (!t || !/^[A-Za-z0-9_-]{43}$/.test(t)) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    t = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    localStorage.setItem(DEVICE_KEY, t);
  }
  return t;
}
