// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { OfflineQueue } from '../../src/components'
import type { OutboxItem } from '../../src/core'
import { createScriptedClient, inProvider, item, type ScriptedClient } from './fake-client'

let scripted: ScriptedClient

beforeEach(() => {
  scripted = createScriptedClient({ status: 'offline', online: false })
})
afterEach(cleanup)

const previews = () => [...document.querySelectorAll('[data-lifeline="queue-preview"]')].map((node) => node.textContent)

describe('OfflineQueue previews', () => {
  it('reads JSON as words by default: a string as itself, an object as "key: value, …", nested values elided', () => {
    render(inProvider(scripted.client, <OfflineQueue defaultExpanded />))
    scripted.setItems([
      item('a', '"first while down"', { channel: 'chat' }),
      item('b', '{"text":"hi","user":{"id":7},"tags":["a"],"seen":false,"n":null}'),
      item('c', '[1,"two",{"x":3}]'),
      item('d', '42'),
      item('e', '{}'),
      item('f', '  {"text":"line one\\n   line two"}  '),
      item('g', '{not json'),
      item('h', 'plain words'),
      item('i', new Uint8Array([1, 2]), { bytes: 2 }),
    ])
    expect(previews()).toEqual([
      'first while down',
      'text: hi, user: {…}, tags: […], seen: false, n: null',
      '1, two, {…}',
      '42',
      '{}',
      'text: line one line two',
      '{not json',
      'plain words',
      'Binary data',
    ])
  })

  it('cuts the readable preview to 60 characters, as it cuts plain text', () => {
    render(inProvider(scripted.client, <OfflineQueue defaultExpanded />))
    const long = 'A message long enough to be cut short in the list preview, as most are'
    scripted.setItems([item('e', JSON.stringify({ type: 'chat', text: long }))])
    const [preview] = previews()
    expect(preview).toHaveLength(60)
    expect(preview).toBe(`type: chat, text: ${long}`.slice(0, 59) + '…')
  })

  it('formatItem renders each preview: given the item and the default preview; strings are cut, nodes kept', () => {
    const formatItem = vi.fn((entry: OutboxItem, preview: string) =>
      entry.id === 'b' ? <strong>{preview}</strong> : `#${entry.channel ?? '?'} ${preview} ${'x'.repeat(80)}`,
    )
    render(inProvider(scripted.client, <OfflineQueue defaultExpanded formatItem={formatItem} />))
    const a = item('a', '{"text":"hello"}', { channel: 'room' })
    const b = item('b', '"bold"')
    scripted.setItems([a, b])
    expect(formatItem).toHaveBeenCalledWith(a, 'text: hello')
    expect(formatItem).toHaveBeenCalledWith(b, 'bold')
    const [first, second] = previews()
    expect(first).toBe(`#room text: hello ${'x'.repeat(80)}`.slice(0, 59) + '…')
    expect(second).toBe('bold')
    expect(screen.getByText('bold').tagName).toBe('STRONG')
    // The preview still describes the item's buttons.
    const discard = screen.getAllByRole('button', { name: 'Discard' })[1]!
    expect(discard.getAttribute('aria-describedby')).toBe(
      document.querySelectorAll('[data-lifeline="queue-preview"]')[1]?.id,
    )
  })
})
