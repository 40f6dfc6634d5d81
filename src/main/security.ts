/** What the workbench window may load and reach: only the app's own files, over app://workbench/. */
import { contentSecurityPolicy } from '../host/static.ts';

export const APP_SCHEME = 'app';
export const APP_HOST = 'workbench';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

/** The Electron window's policy: nothing off the app, not even a socket (the engine has a MessagePort). */
export const WINDOW_CSP = contentSecurityPolicy();

/**
 * Whether the window may be at `url`: the app's own pages, or the electron-vite dev server when
 * one is configured (development only).
 */
export function isAppUrl(url: string, devServer?: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === `${APP_SCHEME}:` && u.host === APP_HOST) return true;
  if (devServer) {
    const d = new URL(devServer);
    return u.origin === d.origin;
  }
  return false;
}

/** External links a user clicks open in the system browser, and only these kinds. */
export function isExternalLink(url: string): boolean {
  try {
    return ['https:', 'http:'].includes(new URL(url).protocol);
  } catch {
    return false;
  }
}
