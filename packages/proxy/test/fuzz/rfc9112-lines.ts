/*
 * The line-level grammar of an HTTP/1.1 request (RFC 9112 §2-§5), strict, for the reference
 * reading. Written from the RFC's ABNF, not from podgate's or llhttp's code: where the RFC lets a
 * recipient choose (bare LF, obs-fold, bare CR), the choice is podgate's documented one (refuse).
 */

export type LineRead = { kind: 'line'; text: string; next: number } | { kind: 'bad'; why: string } | { kind: 'short' };

/**
 * The line starting at `at`, without its CRLF. RFC 9112 §2.2: a bare LF MAY be taken as a line end
 * (podgate does not: refused); a bare CR MUST be taken as invalid or replaced by SP (podgate
 * refuses). `short`: the bytes end before the line does (the request never completes).
 */
export function readLine(s: string, at: number): LineRead {
  const lf = s.indexOf('\n', at);
  const end = lf < 0 ? s.length : lf;
  const cr = s.indexOf('\r', at);
  // A CR followed by anything but LF is a bare CR, whether or not the line ever ends.
  if (cr >= 0 && cr < end && cr + 1 < s.length && s[cr + 1] !== '\n') return { kind: 'bad', why: 'bare CR (RFC 9112 §2.2; podgate refuses)' };
  if (lf < 0) return { kind: 'short' };
  if (lf === at || s[lf - 1] !== '\r') return { kind: 'bad', why: 'bare LF line end (RFC 9112 §2.2; podgate refuses)' };
  return { kind: 'line', text: s.slice(at, lf - 1), next: lf + 1 };
}

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** RFC 9110 §5.6.2: token = 1*tchar. */
export function isToken(text: string): boolean {
  return TCHAR.test(text);
}

function isOws(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** RFC 9110 §5.6.3: OWS is not part of a field value. */
export function trimOws(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isOws(text[start])) start++;
  while (end > start && isOws(text[end - 1])) end--;
  return text.slice(start, end);
}

/** `tabAfter`: the OWS after the value holds an HTAB (see reference-reading.ts). */
export type FieldRead = { kind: 'field'; name: string; value: string; tabAfter: boolean } | { kind: 'bad'; why: string };

/** RFC 9112 §5: field-line = field-name ":" OWS field-value OWS. */
export function parseFieldLine(text: string): FieldRead {
  if (isOws(text[0])) return { kind: 'bad', why: 'obs-fold or whitespace-led line (RFC 9112 §5.2, §2.2; podgate refuses)' };
  const colon = text.indexOf(':');
  if (colon < 0) return { kind: 'bad', why: 'field line without a colon (RFC 9112 §5)' };
  const name = text.slice(0, colon);
  if (name.length > 0 && isOws(name[name.length - 1])) return { kind: 'bad', why: 'whitespace between field name and colon (RFC 9112 §5.1: MUST 400)' };
  if (!isToken(name)) return { kind: 'bad', why: `field name ${JSON.stringify(name)} is not a token (RFC 9110 §5.1)` };
  const raw = text.slice(colon + 1);
  const value = trimOws(raw);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    // RFC 9110 §5.5: field-vchar = VCHAR / obs-text, with SP and HTAB inside; CTLs are invalid.
    if (c === 0x7f || (c < 0x20 && c !== 0x09)) return { kind: 'bad', why: `control character 0x${c.toString(16)} in a field value (RFC 9110 §5.5)` };
  }
  const after = /[ \t]*$/.exec(raw)?.[0] ?? '';
  return { kind: 'field', name, value, tabAfter: after.includes('\t') };
}

/** RFC 9110 §9: the methods a general-purpose proxy knows; another token is a method too. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH']);

// RFC 9112 §3.2.1 origin-form = absolute-path [ "?" query ], RFC 3986 pchar and query characters.
const PCHAR = "A-Za-z0-9\\-._~!$&'()*+,;=:@%";
const ORIGIN_FORM = new RegExp(`^(/[${PCHAR}]*)+(\\?[${PCHAR}/?]*)?$`);

export type RequestLineRead = { kind: 'line'; method: string; target: string; minor: number; either: string | null } | { kind: 'bad'; why: string };

/** RFC 9112 §3: request-line = method SP request-target SP HTTP-version. */
export function parseRequestLine(text: string): RequestLineRead {
  const words = text.split(' ');
  if (words.length !== 3) return { kind: 'bad', why: 'request line is not three words split by single spaces (RFC 9112 §3)' };
  const [method, target, version] = words as [string, string, string];
  if (!isToken(method)) return { kind: 'bad', why: 'method is not a token (RFC 9112 §3.1)' };
  // podgate's rule: origin-form only (absolute-form and asterisk-form are refused).
  if (!ORIGIN_FORM.test(target))
    return { kind: 'bad', why: `request target ${JSON.stringify(target)} is not origin-form (RFC 9112 §3.2.1; podgate refuses others)` };
  const v = /^HTTP\/1\.([01])$/.exec(version);
  if (v === null) return { kind: 'bad', why: `version ${JSON.stringify(version)} is not HTTP/1.0 or HTTP/1.1` };
  // RFC 9110 §9.1: a method is case-sensitive; one a proxy does not know it may forward or refuse.
  const either = KNOWN_METHODS.has(method) ? null : `method ${JSON.stringify(method)} is not a known one (RFC 9110 §9.1: 501 allowed)`;
  return { kind: 'line', method, target, minor: Number(v[1]), either };
}

/** RFC 9112 §3.2 with RFC 3986 §3.2.2: Host = uri-host [ ":" port ], uri-host may be empty. */
export function isValidHost(value: string): boolean {
  return /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(:[0-9]*)?$/.test(value);
}

/** The host name a Host value routes by: lower case, without the port. */
export function hostName(value: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)/.exec(value);
  return (m?.[1] ?? value).toLowerCase();
}
