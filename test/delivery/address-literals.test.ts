import { describe, expect, it } from 'vitest';
import { isIpLiteral } from '../../src/net/address-policy.js';

// The SSRF rule at endpoint creation hinges on telling IP literals from names: a literal is
// judged on the spot, a name only after DNS. Missing a literal would let it through unchecked.
describe('isIpLiteral', () => {
  it.each([
    '127.0.0.1',
    '10.0.0.1',
    '0.0.0.0',
    '[::1]',
    '::1',
    '[::ffff:127.0.0.1]',
    '[64:ff9b::a00:1]',
    '0x7f.0.0.1',
    '2130706433',
  ])('%s is a literal', (host) => {
    expect(isIpLiteral(host)).toBe(true);
  });

  it.each(['hooks.example.com', 'localhost', 'example', 'a1.example.com', 'api-2.example.org'])('%s is a name', (host) => {
    expect(isIpLiteral(host)).toBe(false);
  });

  it('agrees with URL parsing for every notation WHATWG turns into an address', () => {
    for (const input of ['http://0x7f.1/', 'http://127.1/', 'http://017700000001/', 'http://[::ffff:7f00:1]/']) {
      expect(isIpLiteral(new URL(input).hostname)).toBe(true);
    }
  });
});
