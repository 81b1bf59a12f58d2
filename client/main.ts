import './styles/global.css';
import './ec-app.js';

// The service worker (client/sw.ts): the app opens without network and reads meetings kept offline.
// Only in a built app; `vite dev` serves modules the worker cannot precache.
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  void navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch(() => {
    /* not supported here (e.g. not a secure context): the app works online as before */
  });
}
