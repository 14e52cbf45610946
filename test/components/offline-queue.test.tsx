// @vitest-environment jsdom
import { createRef } from 'react'
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { OfflineQueue } from '../../src/components'
import { MessageTooLargeError } from '../../src/core'
import { createScriptedClient, error, inProvider, item, type ScriptedClient } from './fake-client'

let scripted: ScriptedClient

beforeEach(() => {
  scripted = createScriptedClient({ status: 'offline', online: false })
})
afterEach(cleanup)

const root = () => document.querySelector('[data-lifeline="queue"]') as HTMLElement
const summary = () => document.querySelector('[data-lifeline="queue-summary"]')?.textContent
const details = () => document.querySelector('[data-lifeline="queue-details"]') as HTMLDetailsElement
/** Toggles the `<details>` as a click on its summary would; jsdom fires `toggle` in a task, so wait for it. */
const toggle = async () => {
  fireEvent.click(document.querySelector('summary') as HTMLElement)
  await waitFor(() => expect(details().dataset.state).toBe(details().open ? 'open' : 'closed'))
}
const three = () => [
  item('a', 'hello'),
  item('b', 'world!', { state: 'sending', attempts: 1 }),
  item('c', 'x'.repeat(2000)),
]

describe('OfflineQueue', () => {
  it('renders nothing but its root (and live region) while the outbox is empty', () => {
    render(inProvider(scripted.client, <OfflineQueue />))
    expect(root().dataset.state).toBe('empty')
    expect(screen.queryByRole('button')).toBeNull()
    expect(screen.queryByRole('list')).toBeNull()
    expect(screen.getByRole('status').textContent).toBe('')
  })

  it('summarises the messages waiting and their size', () => {
    render(inProvider(scripted.client, <OfflineQueue />))
    scripted.setItems(three())
    expect(root().dataset.state).toBe('waiting')
    expect(summary()).toBe('3 messages waiting to send (2.0 kB).')
    scripted.setItems([item('a', 'hello')])
    expect(summary()).toBe('1 message waiting to send (5 B).')
  })

  it('counts failed messages apart and marks the root failed', () => {
    render(inProvider(scripted.client, <OfflineQueue />))
    scripted.setItems([...three(), item('d', 'nope', { state: 'failed', error: error('MESSAGE_REFUSED') })])
    expect(root().dataset.state).toBe('failed')
    expect(summary()).toBe('3 messages waiting to send (2.0 kB). 1 message could not be sent.')
    scripted.setItems([item('d', 'nope', { state: 'failed', error: error('MESSAGE_REFUSED') })])
    expect(summary()).toBe('1 message could not be sent.')
  })

  it('is collapsed behind its summary, a native disclosure that opens the list', async () => {
    render(inProvider(scripted.client, <OfflineQueue />))
    scripted.setItems(three())
    const summaryElement = document.querySelector('summary') as HTMLElement
    expect(summaryElement.parentElement).toBe(details())
    expect(summaryElement.textContent).toBe('3 messages waiting to send (2.0 kB).')
    expect(details().open).toBe(false)
    expect(details().dataset.state).toBe('closed')
    const list = screen.getByRole('list', { hidden: true })
    expect(list.parentElement).toBe(details())
    expect(list.childElementCount).toBe(0)
    await toggle()
    expect(details().open).toBe(true)
    expect(details().dataset.state).toBe('open')
    expect(within(list).getAllByRole('listitem')).toHaveLength(3)
    await toggle()
    expect(details().open).toBe(false)
    expect(list.childElementCount).toBe(0)
  })

  it("shows each item's preview, size and state (queued, sending, failed with its reason)", () => {
    render(inProvider(scripted.client, <OfflineQueue defaultExpanded />))
    scripted.setItems([
      item('a', 'hello'),
      item('b', 'world!', { state: 'sending', attempts: 1 }),
      item('c', 'big', { state: 'failed', error: new MessageTooLargeError(70_000, 65_536), bytes: 70_000 }),
      item('d', 'odd', { state: 'failed', error: error('STORAGE_ERROR') }),
      item('e', new Uint8Array([1, 2, 3]), { bytes: 3 }),
    ])
    const rows = screen.getAllByRole('listitem').map((row) => ({
      state: row.dataset.state,
      preview: row.querySelector('[data-lifeline="queue-preview"]')?.textContent,
      size: row.querySelector('[data-lifeline="queue-size"]')?.textContent,
      status: row.querySelector('[data-lifeline="queue-status"]')?.textContent,
    }))
    expect(rows).toEqual([
      { state: 'queued', preview: 'hello', size: '5 B', status: 'Waiting' },
      { state: 'sending', preview: 'world!', size: '6 B', status: 'Sending…' },
      { state: 'failed', preview: 'big', size: '70.0 kB', status: 'Failed: too large' },
      { state: 'failed', preview: 'odd', size: '3 B', status: 'Failed: not sent' },
      { state: 'queued', preview: 'Binary data', size: '3 B', status: 'Waiting' },
    ])
  })

  it('truncates long previews without splitting a surrogate pair, and renders data as text only', () => {
    render(inProvider(scripted.client, <OfflineQueue defaultExpanded />))
    const html = '<img src=x onerror="globalThis.pwned=1">'
    scripted.setItems([item('a', 'a'.repeat(58) + '😀tail'), item('b', html), item('c', 'b'.repeat(60))])
    const previews = [...document.querySelectorAll('[data-lifeline="queue-preview"]')].map((node) => node.textContent)
    expect(previews[0]).toBe('a'.repeat(58) + '…')
    expect(previews[1]).toBe(html)
    expect(previews[2]).toBe('b'.repeat(60))
    expect(document.querySelector('img')).toBeNull()
  })

  it('retries and discards one item, its buttons described by its preview', () => {
    render(inProvider(scripted.client, <OfflineQueue defaultExpanded />))
    scripted.setItems([item('a', 'hello'), item('b', 'broken', { state: 'failed', error: error('MESSAGE_REFUSED') })])
    const [queued, failed] = screen.getAllByRole('listitem') as [HTMLElement, HTMLElement]
    expect(within(queued).queryByRole('button', { name: 'Retry' })).toBeNull()
    const retry = within(failed).getByRole('button', { name: 'Retry' })
    expect(document.getElementById(retry.getAttribute('aria-describedby') ?? '')?.textContent).toBe('broken')
    fireEvent.click(retry)
    expect(scripted.retryItem).toHaveBeenCalledWith('b')
    fireEvent.click(within(queued).getByRole('button', { name: 'Discard' }))
    expect(scripted.discardItem).toHaveBeenCalledWith('a')
  })

  it('retries and discards all', () => {
    render(inProvider(scripted.client, <OfflineQueue />))
    scripted.setItems([item('a', 'hello')])
    expect(screen.queryByRole('button', { name: 'Retry all' })).toBeNull()
    scripted.setItems([item('a', 'hello'), item('b', 'broken', { state: 'failed', error: error('MESSAGE_REFUSED') })])
    fireEvent.click(screen.getByRole('button', { name: 'Retry all' }))
    expect(scripted.retryItem).toHaveBeenCalledWith()
    fireEvent.click(screen.getByRole('button', { name: 'Discard all' }))
    expect(scripted.discardItem).toHaveBeenCalledWith()
  })

  it('announces politely when more messages fail, not when failures are retried or discarded', () => {
    render(inProvider(scripted.client, <OfflineQueue />))
    const status = screen.getByRole('status')
    const refused = { state: 'failed', error: error('MESSAGE_REFUSED') } as const
    scripted.setItems([item('a', 'hello')])
    expect(status.textContent).toBe('')
    scripted.setItems([item('a', 'hello', refused)])
    expect(status.textContent).toBe('1 message could not be sent.')
    scripted.setItems([item('a', 'hello', refused), item('b', 'again', refused)])
    expect(status.textContent).toBe('2 messages could not be sent.')
    scripted.setItems([item('a', 'hello', refused)])
    expect(status.textContent).toBe('2 messages could not be sent.')
    scripted.setItems([])
    expect(status.textContent).toBe('')
    expect(screen.getByRole('alert').textContent).toBe('')
  })

  it("composes a controlled Details: the user's open and onToggle, and the list follows it", async () => {
    const onToggle = vi.fn()
    const view = (open: boolean) =>
      inProvider(
        scripted.client,
        <OfflineQueue.Root>
          <OfflineQueue.Details open={open} onToggle={onToggle} />
        </OfflineQueue.Root>,
      )
    const { rerender } = render(view(false))
    scripted.setItems(three())
    expect(details().open).toBe(false)
    rerender(view(true))
    await waitFor(() => expect(onToggle).toHaveBeenCalledTimes(1))
    expect(details().open).toBe(true)
    expect(screen.getAllByRole('listitem')).toHaveLength(3)
  })

  it('takes every text from labels', () => {
    render(
      inProvider(
        scripted.client,
        <OfflineQueue
          defaultExpanded
          labels={{
            waiting: (count, size) => `${count} en attente · ${size}`,
            failedCount: (count) => `${count} en échec`,
            list: 'Messages',
            queued: 'En attente',
            failed: (reason) => `Échec (${reason})`,
            reasons: { MESSAGE_REFUSED: 'refusé' },
            discard: 'Supprimer',
            retry: 'Renvoyer',
            retryAll: 'Tout renvoyer',
            discardAll: 'Tout supprimer',
            formatBytes: (bytes) => `${bytes} octets`,
          }}
        />,
      ),
    )
    scripted.setItems([item('a', 'hello'), item('b', 'no', { state: 'failed', error: error('MESSAGE_REFUSED') })])
    expect(summary()).toBe('1 en attente · 5 octets 1 en échec')
    expect(screen.queryByRole('list', { name: 'Messages' })).not.toBeNull()
    expect(screen.queryByText('En attente')).not.toBeNull()
    expect(screen.queryByText('Échec (refusé)')).not.toBeNull()
    expect(screen.getAllByRole('button', { name: 'Supprimer' })).toHaveLength(2)
    expect(screen.queryByRole('button', { name: 'Renvoyer' })).not.toBeNull()
    expect(screen.queryByRole('button', { name: 'Tout renvoyer' })).not.toBeNull()
    expect(screen.queryByRole('button', { name: 'Tout supprimer' })).not.toBeNull()
  })

  it('composes: a custom item renderer, refs forwarded and rest props spread on every part', () => {
    const refs = {
      root: createRef<HTMLDivElement>(),
      details: createRef<HTMLDetailsElement>(),
      summary: createRef<HTMLElement>(),
      list: createRef<HTMLUListElement>(),
      item: createRef<HTMLLIElement>(),
      preview: createRef<HTMLSpanElement>(),
      size: createRef<HTMLSpanElement>(),
      status: createRef<HTMLSpanElement>(),
      retry: createRef<HTMLButtonElement>(),
      discard: createRef<HTMLButtonElement>(),
      retryAll: createRef<HTMLButtonElement>(),
      discardAll: createRef<HTMLButtonElement>(),
    }
    const onDiscard = vi.fn((event: { preventDefault(): void }) => event.preventDefault())
    render(
      <OfflineQueue.Root ref={refs.root} client={scripted.client} defaultExpanded className="root">
        <OfflineQueue.RetryAllButton ref={refs.retryAll} className="retryAll" />
        <OfflineQueue.DiscardAllButton ref={refs.discardAll} className="discardAll" />
        <OfflineQueue.Details ref={refs.details} className="details">
          <OfflineQueue.Summary ref={refs.summary} className="summary" />
          <OfflineQueue.List ref={refs.list} className="list">
            {(entry) => (
              <OfflineQueue.Item ref={refs.item} item={entry} className="item">
                <OfflineQueue.ItemPreview ref={refs.preview} className="preview" />
                <OfflineQueue.ItemSize ref={refs.size} className="size" />
                <OfflineQueue.ItemStatus ref={refs.status} className="status" />
                <OfflineQueue.ItemRetryButton ref={refs.retry} className="retry" />
                <OfflineQueue.ItemDiscardButton ref={refs.discard} className="discard" onClick={onDiscard} />
              </OfflineQueue.Item>
            )}
          </OfflineQueue.List>
        </OfflineQueue.Details>
      </OfflineQueue.Root>,
    )
    scripted.setItems([item('a', 'hello', { state: 'failed', error: error('MESSAGE_REFUSED') })])
    for (const [name, ref] of Object.entries(refs)) {
      expect(ref.current, name).toBeInstanceOf(HTMLElement)
      expect(ref.current?.className, name).toBe(name)
    }
    expect(refs.root.current?.dataset.state).toBe('failed')
    fireEvent.click(refs.discard.current as HTMLButtonElement)
    expect(onDiscard).toHaveBeenCalledTimes(1)
    expect(scripted.discardItem).not.toHaveBeenCalled()
  })
})
