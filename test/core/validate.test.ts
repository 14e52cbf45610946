import { describe, expect, it } from 'vitest'
import {
  InsecureTransportError,
  InvalidMessageError,
  InvalidUrlError,
  type OutboundData,
  type PageLocation,
} from '../../src/core'
import { measureMessage, resolveUrl } from '../../src/core/validate'

const httpsPage: PageLocation = { href: 'https://app.example.com/dash/index.html?x=1#top', protocol: 'https:' }
const httpPage: PageLocation = { href: 'http://localhost:5173/app/', protocol: 'http:' }

describe('resolveUrl', () => {
  it.each<[string, string, PageLocation | undefined, string]>([
    ['an absolute wss URL', 'wss://example.com/socket', undefined, 'wss://example.com/socket'],
    ['an absolute ws URL with a port', 'ws://localhost:8080', undefined, 'ws://localhost:8080/'],
    ['a query string (kept)', 'wss://example.com/ws?room=1', undefined, 'wss://example.com/ws?room=1'],
    ['surrounding whitespace', '  wss://example.com/ws  ', undefined, 'wss://example.com/ws'],
    ['http mapped to ws', 'http://example.com/ws', undefined, 'ws://example.com/ws'],
    ['https mapped to wss', 'https://example.com/ws', undefined, 'wss://example.com/ws'],
    ['an absolute path on an https page', '/socket', httpsPage, 'wss://app.example.com/socket'],
    ['a relative path on an https page', 'socket', httpsPage, 'wss://app.example.com/dash/socket'],
    ['a protocol-relative URL on an https page', '//other.example.com/ws', httpsPage, 'wss://other.example.com/ws'],
    ['an absolute path on an http page', '/socket', httpPage, 'ws://localhost:5173/socket'],
    ['ws:// on an http page', 'ws://localhost:9000/ws', httpPage, 'ws://localhost:9000/ws'],
    ['wss:// on an https page', 'wss://example.com/ws', httpsPage, 'wss://example.com/ws'],
  ])('resolves %s', (_, input, page, expected) => {
    expect(resolveUrl(input, page)).toBe(expected)
  })

  it.each([
    ['ws:// from an https page', 'ws://example.com/ws'],
    ['http:// (mapped to ws://) from an https page', 'http://example.com/ws'],
  ])('refuses %s with InsecureTransportError', (_, input) => {
    expect(() => resolveUrl(input, httpsPage)).toThrow(InsecureTransportError)
    expect(() => resolveUrl(input, httpsPage)).toThrow(expect.objectContaining({ code: 'INSECURE_TRANSPORT' }))
  })

  it.each<[string, unknown, PageLocation | undefined]>([
    ['a relative path without a page', '/socket', undefined],
    ['an empty string', '', undefined],
    ['an empty string on a page', '', httpsPage],
    ['only whitespace on a page', '   ', httpsPage],
    ['a scheme without a host', 'ws://', undefined],
    ['plain words', 'not a url', undefined],
    ['a space in the host', 'ws://exa mple.com', undefined],
    ['an ftp URL', 'ftp://example.com/ws', undefined],
    ['a javascript: URL', 'javascript:alert(1)', httpsPage],
    ['a data: URL', 'data:text/plain,hi', undefined],
    ['a file: URL', 'file:///etc/passwd', undefined],
    ['credentials', 'wss://user:pass@example.com/ws', undefined],
    ['a user name alone', 'wss://user@example.com/ws', undefined],
    ['a fragment', 'wss://example.com/ws#part', undefined],
    ['an empty fragment', 'wss://example.com/ws#', undefined],
    ['a fragment on a relative path', '/ws#part', httpsPage],
    ['undefined', undefined, httpsPage],
    ['null', null, httpsPage],
    ['a number', 42, httpsPage],
    ['an object', { href: 'wss://example.com' }, httpsPage],
  ])('rejects %s with InvalidUrlError', (_, input, page) => {
    expect(() => resolveUrl(input, page)).toThrow(InvalidUrlError)
    expect(() => resolveUrl(input, page)).toThrow(expect.objectContaining({ code: 'INVALID_URL' }))
  })
})

describe('measureMessage', () => {
  it.each<[string, string, number]>([
    ['ASCII', 'hello', 5],
    ['an empty string', '', 0],
    ['2-byte UTF-8 (é)', 'é', 2],
    ['2-byte UTF-8 at the top of the range (U+07FF)', '\u07ff', 2],
    ['3-byte UTF-8 (€)', '€', 3],
    ['3-byte UTF-8 at the top of the BMP (U+FFFF)', '\uffff', 3],
    ['4-byte UTF-8 (a surrogate pair, 😀)', '😀', 4],
    ['a mix', 'aé€😀', 10],
    ['a NUL byte', '\u0000', 1],
  ])('counts %s as its UTF-8 bytes', (_, text, bytes) => {
    expect(measureMessage(text)).toBe(bytes)
    expect(measureMessage(text)).toBe(new TextEncoder().encode(text).length)
  })

  it('agrees with TextEncoder on 200 random well-formed strings', () => {
    const codePoints = [0x41, 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0x10000, 0x1f600, 0x10ffff]
    for (let run = 0; run < 200; run++) {
      const text = Array.from({ length: 20 }, (_, index) =>
        String.fromCodePoint(codePoints[(run * 7 + index * 3) % codePoints.length]!),
      ).join('')
      expect(measureMessage(text)).toBe(new TextEncoder().encode(text).length)
    }
  })

  it.each([
    ['a lone high surrogate', '\ud800'],
    ['a lone high surrogate before a letter', 'a\ud83db'],
    ['a lone high surrogate at the end', 'abc\udbff'],
    ['a lone low surrogate', '\udc00'],
    ['a lone low surrogate after text', 'ok\udfff'],
    ['a reversed pair', '\ude00\ud83d'],
    ['two high surrogates', '\ud83d\ud83d\ude00'],
  ])('rejects %s with InvalidMessageError (INVALID_MESSAGE)', (_, text) => {
    expect(() => measureMessage(text)).toThrow(InvalidMessageError)
    expect(() => measureMessage(text)).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }))
  })

  it.each<[string, OutboundData, number]>([
    ['an ArrayBuffer', new ArrayBuffer(16), 16],
    ['an empty ArrayBuffer', new ArrayBuffer(0), 0],
    ['a Uint8Array view into a larger buffer', new Uint8Array(new ArrayBuffer(64), 4, 8), 8],
    ['a Float64Array', new Float64Array(3), 24],
    ['a DataView', new DataView(new ArrayBuffer(32), 8, 10), 10],
    ['a Blob', new Blob(['héllo']), 6],
  ])('counts %s by its byte length', (_, data, bytes) => {
    expect(measureMessage(data)).toBe(bytes)
  })

  it.each<[string, unknown]>([
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
    ['a plain object', { text: 'hi' }],
    ['a boolean', true],
    ['an array of numbers', [1, 2, 3]],
  ])('rejects %s as an unsupported type with InvalidMessageError', (_, data) => {
    expect(() => measureMessage(data as OutboundData)).toThrow(InvalidMessageError)
  })
})
