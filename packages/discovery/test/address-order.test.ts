import { describe, expect, it } from 'vitest';
import { sameAddresses, sortAddresses } from '../src/address-order.js';

describe('sortAddresses', () => {
  it('puts IPv4 before IPv6 and orders each family numerically', () => {
    expect(sortAddresses(['fd00::10', '127.10.0.10', '::1', '127.10.0.2', 'fd00::9'])).toEqual(['127.10.0.2', '127.10.0.10', '::1', 'fd00::9', 'fd00::10']);
  });

  it('drops duplicates, including two spellings of one IPv6 address, and anything that is not an IP', () => {
    expect(sortAddresses(['127.10.0.1', '127.10.0.1', 'fd00::1', 'FD00:0:0:0:0:0:0:1', 'web.example'])).toEqual(['127.10.0.1', 'fd00::1']);
  });

  it('reads the dotted tail of an IPv4-mapped IPv6 address', () => {
    expect(sortAddresses(['::ffff:127.10.0.2', '::ffff:a00:1'])).toEqual(['::ffff:a00:1', '::ffff:127.10.0.2']);
  });
});

describe('sameAddresses', () => {
  it('compares two sorted lists element by element', () => {
    expect(sameAddresses(['127.10.0.1'], ['127.10.0.1'])).toBe(true);
    expect(sameAddresses(['127.10.0.1'], ['127.10.0.1', '127.10.0.2'])).toBe(false);
    expect(sameAddresses([], [])).toBe(true);
  });
});
