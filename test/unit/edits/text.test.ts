import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeText, dominantEol, fromString, splitLines, toStyle } from '../../../src/edits/text';

test('splitLines keeps terminators and a last line without newline', () => {
  assert.deepEqual(splitLines('a\nb\nc'), ['a\n', 'b\n', 'c']);
  assert.deepEqual(splitLines('a\n'), ['a\n']);
  assert.deepEqual(splitLines(''), []);
});

test('decodeText normalises CRLF and remembers the style; binary is null', () => {
  const d = decodeText(new TextEncoder().encode('\ufeffa\r\nb\r\nc\n'));
  assert.deepEqual(d, { text: 'a\nb\nc\n', eol: '\r\n', bom: true });
  assert.equal(toStyle(d!.text, d!), '\ufeffa\r\nb\r\nc\r\n');
  assert.equal(decodeText(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2])), null);
  assert.equal(decodeText(new Uint8Array([0xff, 0xfe, 0xfd])), null, 'invalid UTF-8 is not text');
  assert.equal(dominantEol('a\nb\n'), '\n');
  assert.equal(fromString('x\r\ny').eol, '\r\n');
});
