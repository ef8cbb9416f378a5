/**
 * A link a webview asks the host to open (`vscode.env.openExternal`). Webviews never navigate
 * themselves: the host opens only web and mail links, checked here on receipt.
 */
import { literal, maxLength, object, refine, string } from 'zod/mini';

const SCHEMES = new Set(['http:', 'https:', 'mailto:']);
export const LINK_URL_MAX = 4096;

/** True for an absolute http(s) or mailto URL (what may leave the webview for the user's browser). */
export function isExternalUrl(url: string): boolean {
  if (url.length > LINK_URL_MAX) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (!SCHEMES.has(u.protocol)) return false;
  return u.protocol === 'mailto:' ? u.pathname.length > 0 : u.hostname.length > 0;
}

export const openLinkSchema = object({
  type: literal('link/open'),
  url: string().check(
    maxLength(LINK_URL_MAX),
    refine(isExternalUrl, { message: 'only absolute http(s) and mailto links are opened' }),
  ),
});
