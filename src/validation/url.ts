import { z } from 'zod';
import { checkAddress, isIpLiteral, isLocalHostName } from '../net/address-policy.js';
import { hasUnstorableText, UNSTORABLE_TEXT_PROBLEM } from './text.js';

export const MAX_URL_LENGTH = 2048;

export interface UrlPolicy {
  allowHttp: boolean;
  allowPrivateNetworks: boolean;
}

/**
 * Characters a reader cannot see (soft hyphen, zero-width space and joiners, word joiner, BOM,
 * variation selectors …) and bidirectional controls: the URL parser drops or refuses them, so
 * the URL a customer reads would not be the one that is called.
 */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/u;
const NON_ASCII = /[^\x00-\x7f]/;

export type UrlReading = { url: string; problem?: undefined } | { url?: undefined; problem: string };

/**
 * An endpoint URL as it will be stored and called, or why it is refused. ASCII URLs are stored
 * as given; a URL with other characters (an IDN host such as `münchen.example`, a Cyrillic
 * look-alike) is stored as the URL parser serializes it, hosts in their ASCII (`xn--`) form, so
 * the customer reads the host that is called.
 */
export function readEndpointUrl(value: string, policy: UrlPolicy): UrlReading {
  if (value.length === 0) return { problem: 'must be an absolute URL' };
  if (value.length > MAX_URL_LENGTH) return { problem: `must be at most ${MAX_URL_LENGTH} characters` };
  if (INVISIBLE.test(value)) return { problem: 'must not contain invisible or bidirectional-control characters' };
  // The URL parser silently drops tabs, newlines and surrounding spaces; the stored string
  // would then differ from what was checked, so such input is refused instead.
  if (/[\s\u0000-\u001f\u007f]/.test(value)) return { problem: 'must not contain whitespace or control characters' };
  if (hasUnstorableText(value)) return { problem: UNSTORABLE_TEXT_PROBLEM };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: 'must be an absolute URL' };
  }
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:')) {
    return { problem: policy.allowHttp ? 'must use https or http' : 'must use https' };
  }
  if (url.username || url.password) return { problem: 'must not contain credentials' };
  if (!url.hostname) return { problem: 'must have a host' };
  if (!policy.allowPrivateNetworks) {
    if (isLocalHostName(url.hostname)) return { problem: 'must not point to localhost' };
    if (isIpLiteral(url.hostname)) {
      const verdict = checkAddress(url.hostname.replace(/^\[|\]$/g, ''));
      if (!verdict.allowed) return { problem: `must not point to a private or reserved network (${verdict.reason})` };
    }
  }
  if (!NON_ASCII.test(value)) return { url: value };
  if (url.href.length > MAX_URL_LENGTH) return { problem: `must be at most ${MAX_URL_LENGTH} characters in its ASCII form` };
  return { url: url.href };
}

/** The endpoint `url` field under `policy`: a string in, the URL to store out. */
export function endpointUrlSchema(policy: UrlPolicy) {
  return z.string('must be an absolute URL').transform((value, ctx): string => {
    const reading = readEndpointUrl(value, policy);
    if (reading.problem !== undefined) ctx.addIssue({ code: 'custom', message: reading.problem });
    return reading.url as string;
  });
}
