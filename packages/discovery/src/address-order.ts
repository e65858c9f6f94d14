import { isIPv4, isIPv6 } from 'node:net';

/**
 * A key that sorts IPv4 before IPv6 and each family numerically (10.0.0.2 before 10.0.0.10), and that
 * is equal for two spellings of one IPv6 address. Null for text that is not an IP address.
 */
function sortKey(address: string): string | null {
  if (isIPv4(address)) {
    return `4${address
      .split('.')
      .map((octet) => Number(octet).toString(16).padStart(2, '0'))
      .join('')}`;
  }
  if (!isIPv6(address)) return null;
  let text = address.split('%')[0] ?? '';
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // RFC 4291 §2.2 form 3 (::ffff:10.0.0.1): the last 32 bits as dotted IPv4.
    const octets = tail.split('.').map(Number);
    const group = (high: number | undefined, low: number | undefined): string => (((high ?? 0) << 8) | (low ?? 0)).toString(16);
    text = `${text.slice(0, lastColon + 1)}${group(octets[0], octets[1])}:${group(octets[2], octets[3])}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? [] : new Array<string>(8 - headGroups.length - restGroups.length).fill('0');
  return `6${[...headGroups, ...zeros, ...restGroups]
    .map((group) => group.padStart(4, '0'))
    .join('')
    .toLowerCase()}`;
}

/** Deduplicated IP addresses, IPv4 first, each family in numeric order; anything else is dropped. */
export function sortAddresses(addresses: Iterable<string>): string[] {
  const byKey = new Map<string, string>();
  for (const address of addresses) {
    const key = sortKey(address);
    if (key !== null && !byKey.has(key)) byKey.set(key, address);
  }
  return [...byKey.keys()].sort().map((key) => byKey.get(key) ?? key);
}

/** Whether two sorted address lists hold the same addresses. */
export function sameAddresses(left: readonly string[], right: readonly string[]): boolean {
  return left.length === right.length && left.every((address, index) => address === right[index]);
}
