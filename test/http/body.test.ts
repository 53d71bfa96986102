import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WebhookError } from '../../src/errors.js';
import { parseJsonBody } from '../../src/http/body.js';

const JSON_HEADERS = { 'content-type': 'application/json' };
const parse = (bytes: Uint8Array): unknown => parseJsonBody({ kind: 'bytes', bytes }, JSON_HEADERS, 1 << 20);

/** What a fatal WHATWG decoder plus JSON.parse make of the bytes: the behaviour parseJsonBody must keep. */
function reference(bytes: Uint8Array): { value: unknown } | { code: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { code: 'BAD_REQUEST:utf8' };
  }
  try {
    return { value: JSON.parse(text) };
  } catch {
    return { code: 'BAD_REQUEST:json' };
  }
}

function outcome(bytes: Uint8Array): { value: unknown } | { code: string } {
  try {
    return { value: parse(bytes) };
  } catch (error) {
    if (!(error instanceof WebhookError)) throw error;
    return { code: `${error.code}:${error.message.includes('UTF-8') ? 'utf8' : 'json'}` };
  }
}

// Issue 6: "Malformed JSON … 4xx with the envelope"; a body that is not UTF-8 is 400, never decoded with U+FFFD.
describe('parseJsonBody', () => {
  it('decodes exactly as a fatal UTF-8 decoder does, for any bytes', () => {
    const jsonish = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.jsonValue().map((v) => new Uint8Array(Buffer.from(JSON.stringify(v) ?? 'null'))),
      // A JSON string with arbitrary bytes inside its quotes: valid JSON exactly when the bytes are UTF-8.
      fc.uint8Array({ maxLength: 12 }).map((inner) => new Uint8Array([0x22, ...inner.filter((b) => b !== 0x22 && b !== 0x5c && b >= 0x20), 0x22])),
      // An encoded U+FFFD (EF BF BD) among arbitrary bytes: the decoder's replacement character must
      // not be mistaken for a genuine one, nor a genuine one for a replaced sequence.
      fc
        .array(fc.oneof(fc.constant([0xef, 0xbf, 0xbd]), fc.uint8Array({ maxLength: 3 }).map((b) => [...b]), fc.constant([0x61])), { maxLength: 8 })
        .map((parts) => new Uint8Array([0x22, ...parts.flat().filter((b) => b !== 0x22 && b !== 0x5c && b >= 0x20), 0x22])),
    );
    fc.assert(fc.property(fc.boolean(), jsonish, (bom, body) => {
      const bytes = bom ? new Uint8Array([0xef, 0xbb, 0xbf, ...body]) : body;
      if (bytes.length === 0) return;
      expect(outcome(bytes)).toEqual(reference(bytes));
    }), { numRuns: 5000 });
  });

  it('drops one leading byte order mark, as a decoder does, and refuses a second', () => {
    expect(parse(new Uint8Array([0xef, 0xbb, 0xbf, ...Buffer.from('{"a":1}')]))).toEqual({ a: 1 });
    expect(outcome(new Uint8Array([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, ...Buffer.from('{}')]))).toEqual({ code: 'BAD_REQUEST:json' });
  });

  it('refuses overlong, surrogate and truncated sequences', () => {
    for (const bad of [[0x22, 0xc0, 0xaf, 0x22], [0x22, 0xed, 0xa0, 0x80, 0x22], [0x22, 0xe2, 0x82, 0x22], [0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]]) {
      expect(outcome(new Uint8Array(bad))).toEqual({ code: 'BAD_REQUEST:utf8' });
    }
  });

  it('keeps a genuine U+FFFD and refuses one beside an invalid sequence', () => {
    expect(parse(new Uint8Array(Buffer.from('"a\uFFFDb"')))).toBe('a\uFFFDb');
    expect(outcome(new Uint8Array([0x22, 0xef, 0xbf, 0xbd, 0xff, 0x22]))).toEqual({ code: 'BAD_REQUEST:utf8' });
  });

  it('reads a body that is a view into a larger buffer', () => {
    const pool = Buffer.from('xx{"url":"https://a.example"}yy');
    expect(parse(pool.subarray(2, pool.length - 2))).toEqual({ url: 'https://a.example' });
  });
});
