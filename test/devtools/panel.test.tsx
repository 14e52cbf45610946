// @vitest-environment jsdom
import axe from 'axe-core'
import { StrictMode } from 'react'
import { act, cleanup, fireEvent, render, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { LifelineDevtoolsPanel } from '../../src/devtools/panel'
import { closed, createScriptedClient, diagnosed, error, item } from '../components/fake-client'
import { $, $$, button, devtoolsRoot, openTab, transitions } from './support'

afterEach(() => {
  cleanup()
  vi.unstubAllEnvs()
  vi.resetModules()
})

const TABS = ['Timeline', 'Frames', 'Outbox', 'Channels', 'Actions']

/** A scripted client that went through a drop, a failed handshake and a long-poll fallback, with outbox items. */
function incident() {
  const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
  render(
    <StrictMode>
      <LifelineDevtoolsPanel client={scripted.client} initialIsOpen />
    </StrictMode>,
  )
  const at = Date.now()
  scripted.set({ status: 'reconnecting', attempt: 1, nextRetryAt: at + 700, lastClose: closed(1006) })
  scripted.set({ status: 'connecting' })
  scripted.set({
    status: 'reconnecting',
    attempt: 2,
    nextRetryAt: at + 1500,
    lastError: diagnosed('unauthorized', 401),
  })
  scripted.set({ status: 'open', transport: 'longpoll', latencyMs: 42 })
  scripted.setItems([
    item('a', '{"type":"chat","text":"secret words"}'),
    item('b', 'x', { state: 'failed', error: error('MESSAGE_REFUSED') }),
  ])
  scripted.set({ latencyMs: 55 })
  return scripted
}

async function axeViolations(): Promise<string[]> {
  const host = document.querySelector('[data-lifeline-devtools]') as HTMLElement
  // jsdom does no layout, so contrast cannot be computed here (as in test/components/a11y.test.tsx).
  const results = await axe.run(host, { rules: { 'color-contrast': { enabled: false } } })
  return results.violations.map(
    (violation) => `${violation.id}: ${violation.nodes.map((node) => node.html).join(', ')}`,
  )
}

describe('<LifelineDevtoolsPanel> on a scripted client', () => {
  it('renders into an open shadow root, out of reach of the page CSS', () => {
    incident()
    const host = document.querySelector('[data-lifeline-devtools]') as HTMLElement
    expect(host.shadowRoot?.querySelector('style')?.textContent).toContain('.ld-panel')
    expect(document.querySelector('.ld-panel')).toBeNull()
    expect($('.ld-panel').getAttribute('aria-label')).toBe('Lifeline devtools')
  })

  it('puts every transition on the timeline with its cause: close code, handshake diagnosis, transport switch', () => {
    incident()
    expect(transitions()).toEqual([
      'open->reconnecting: close 1006 abnormal → reconnect',
      'reconnecting->connecting: ',
      'connecting->reconnecting: error HANDSHAKE_FAILED; handshake: unauthorized (HTTP 401)',
      'reconnecting->open: transport websocket → longpoll',
    ])
    const attempts = $$('[data-chart="attempts"] g').map((group) => [
      group.getAttribute('data-attempt'),
      group.getAttribute('data-delay'),
    ])
    expect(attempts.length).toBe(2)
    expect(attempts.map(([attempt]) => attempt)).toEqual(['1', '2'])
    expect($('[data-chart="latency"]').getAttribute('aria-label')).toContain('2 samples, last 55 ms')
  })

  it('lists outbound frames from the outbox with their type and size, payloads hidden by default', () => {
    incident()
    openTab('Frames')
    const rows = $$('tr[data-direction="out"]').map((row) => row.textContent)
    expect(rows).toHaveLength(2)
    expect(rows.join()).toContain('chat')
    expect(devtoolsRoot().textContent).not.toContain('secret words')
  })

  it('shows payloads only with showPayloads, and pause stops recording frames', () => {
    const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
    render(<LifelineDevtoolsPanel client={scripted.client} initialIsOpen showPayloads />)
    scripted.setItems([item('a', '{"type":"chat","text":"visible"}')])
    openTab('Frames')
    expect(devtoolsRoot().textContent).toContain('visible')
    act(() => void fireEvent.click(button('Pause recording')))
    scripted.setItems([item('a', '{"type":"chat","text":"visible"}'), item('b', '{"type":"late"}')])
    expect($$('tr[data-direction="out"]')).toHaveLength(1)
    act(() => void fireEvent.click(button('Resume recording')))
    scripted.setItems([item('c', '{"type":"after"}')])
    expect($$('tr[data-direction="out"]')).toHaveLength(2)
    act(() => void fireEvent.change($('input[type="search"]'), { target: { value: 'after' } }))
    expect($$('tr[data-direction="out"]')).toHaveLength(1)
  })

  it('retries and discards outbox items through the client', () => {
    const scripted = incident()
    openTab('Outbox')
    act(() => void fireEvent.click(button('Retry b')))
    expect(scripted.retryItem).toHaveBeenCalledWith('b')
    act(() => void fireEvent.click(button('Discard a')))
    expect(scripted.discardItem).toHaveBeenCalledWith('a')
    act(() => void fireEvent.click(button('Retry all failed')))
    expect(scripted.retryItem).toHaveBeenLastCalledWith()
  })

  it('closes with the chosen code, retries and connects; the actions without a core hook are disabled and say why', () => {
    const scripted = incident()
    openTab('Actions')
    act(() => void fireEvent.change($('input[type="number"]'), { target: { value: '4000' } }))
    act(() => void fireEvent.click(button('Close with code')))
    expect(scripted.client.close).toHaveBeenCalledWith(4000)
    act(() => void fireEvent.change($('input[type="number"]'), { target: { value: '2000' } }))
    expect(button('Close with code').disabled).toBe(true)
    act(() => void fireEvent.click(button('Retry now')))
    expect(scripted.retry).toHaveBeenCalledTimes(1)
    act(() => void fireEvent.click(button('Connect')))
    expect(scripted.client.connect).toHaveBeenCalledTimes(1)
    for (const name of ['Drop the link (no close frame)', 'Go offline', 'Force long-poll']) {
      const action = button(name)
      expect(action.disabled).toBe(true)
      const note = devtoolsRoot().getElementById(action.getAttribute('aria-describedby') ?? '')
      expect(note?.textContent).toContain('needs client.devtools.')
    }
  })

  it('uses client.devtools hooks when the client has them', () => {
    const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
    const hooks = { dropLink: vi.fn(), setOnline: vi.fn(), forceTransport: vi.fn() }
    Object.assign(scripted.client, { devtools: hooks })
    render(<LifelineDevtoolsPanel client={scripted.client} initialIsOpen />)
    openTab('Actions')
    act(() => void fireEvent.click(button('Drop the link (no close frame)')))
    act(() => void fireEvent.click(button('Go offline')))
    act(() => void fireEvent.click(button('Go back online')))
    act(() => void fireEvent.click(button('Force long-poll')))
    expect(hooks.dropLink).toHaveBeenCalledTimes(1)
    expect(hooks.setOnline.mock.calls).toEqual([[false], [null]])
    expect(hooks.forceTransport).toHaveBeenCalledWith('longpoll')
  })

  it.each(['light', 'dark'] as const)(
    'has no axe violations in the %s theme, on every tab and closed',
    async (theme) => {
      const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
      render(<LifelineDevtoolsPanel client={scripted.client} initialIsOpen theme={theme} showPayloads />)
      scripted.set({ status: 'reconnecting', attempt: 1, nextRetryAt: Date.now() + 900, lastClose: closed(1006) })
      scripted.setItems([item('a', 'hello'), item('b', 'x', { state: 'failed', error: error('MESSAGE_REFUSED') })])
      expect($('.ld-root').getAttribute('data-theme')).toBe(theme)
      for (const tab of TABS) {
        openTab(tab)
        expect(await axeViolations(), tab).toEqual([])
      }
      act(() => void fireEvent.keyDown($('[role="tab"][aria-selected="true"]'), { key: 'Escape' }))
      expect(await axeViolations()).toEqual([])
    },
  )

  it('shows the wait to the next retry in whole milliseconds', () => {
    const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
    render(<LifelineDevtoolsPanel client={scripted.client} initialIsOpen />)
    scripted.set({
      status: 'reconnecting',
      attempt: 1,
      nextRetryAt: scripted.client.now() + 1890.637,
      lastClose: closed(1006),
    })
    const cells = $$('tbody tr').map((row) => row.children[3]?.textContent ?? '')
    // Whole ms (not 1890.637…); the recorder's clock may have moved a few ms past the one the wait was set from.
    const waits = cells.filter((cell) => /^\d+ ms$/.test(cell)).map((cell) => Number.parseInt(cell, 10))
    expect(waits).toHaveLength(1)
    expect(waits[0]).toBeGreaterThanOrEqual(1880)
    expect(waits[0]).toBeLessThanOrEqual(1891)
  })

  it('reserves its height below the page while open, so nothing of the page stays under it', () => {
    document.body.style.paddingBottom = '8px'
    const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
    render(<LifelineDevtoolsPanel client={scripted.client} initialIsOpen />)
    expect(document.body.style.paddingBottom).toBe('320px')
    act(() => void fireEvent.keyDown($('[role="separator"]'), { key: 'ArrowUp' }))
    expect(document.body.style.paddingBottom).toBe('340px')
    act(() => void fireEvent.keyDown($('[role="tab"][aria-selected="true"]'), { key: 'Escape' }))
    expect(document.body.style.paddingBottom).toBe('8px')
    cleanup()
    expect(document.body.style.paddingBottom).toBe('8px')
    document.body.style.paddingBottom = ''
  })

  it('is usable from the keyboard alone: toggle, arrow keys across the tablist, resize, Escape back to the toggle', () => {
    const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
    render(<LifelineDevtoolsPanel client={scripted.client} />)
    const root = devtoolsRoot()
    const toggle = button('Open the Lifeline devtools (status: open)')
    expect(toggle.getAttribute('aria-expanded')).toBe('false')
    toggle.focus()
    // Enter and Space on a focused button fire click in a browser; jsdom has no default actions, so click stands in.
    act(() => void fireEvent.click(toggle))
    const selected = () => root.activeElement?.textContent
    expect(selected()).toBe('Timeline')
    expect($$('[role="tab"]').map((tab) => tab.tabIndex)).toEqual([0, -1, -1, -1, -1])
    act(() => void fireEvent.keyDown(root.activeElement as Element, { key: 'ArrowRight' }))
    expect(selected()).toBe('Frames')
    expect($('[role="tabpanel"]').getAttribute('data-tab')).toBe('Frames')
    act(() => void fireEvent.keyDown(root.activeElement as Element, { key: 'End' }))
    expect(selected()).toBe('Actions')
    act(() => void fireEvent.keyDown(root.activeElement as Element, { key: 'ArrowRight' }))
    expect(selected()).toBe('Timeline')
    act(() => void fireEvent.keyDown(root.activeElement as Element, { key: 'ArrowLeft' }))
    expect(selected()).toBe('Actions')
    expect($('[role="tabpanel"]').getAttribute('aria-labelledby')).toBe(root.activeElement?.id)
    const separator = $('[role="separator"]')
    const before = Number(separator.getAttribute('aria-valuenow'))
    act(() => void fireEvent.keyDown(separator, { key: 'ArrowUp' }))
    expect(Number(separator.getAttribute('aria-valuenow'))).toBe(before + 20)
    act(() => void fireEvent.keyDown(root.activeElement as Element, { key: 'Escape' }))
    expect(root.querySelector('.ld-panel')).toBeNull()
    expect(root.activeElement?.getAttribute('aria-label')).toBe('Open the Lifeline devtools (status: open)')
  })

  it('renders nothing without a client or provider', () => {
    render(<LifelineDevtoolsPanel />)
    expect(document.querySelector('[data-lifeline-devtools]')).toBeNull()
  })
})

describe('LifelineDevtools entry', () => {
  it('loads the panel lazily in development', async () => {
    vi.stubEnv('NODE_ENV', 'development')
    const { LifelineDevtools } = await import('../../src/devtools')
    const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
    render(<LifelineDevtools client={scripted.client} initialIsOpen />)
    await waitFor(() => expect(document.querySelector('[data-lifeline-devtools]')).not.toBeNull())
    // The lazily loaded panel itself, open as asked (not only the shadow host).
    await waitFor(() => expect(devtoolsRoot().querySelector('.ld-panel')?.getAttribute('data-state')).toBe('open'))
  })

  it('is a component that renders nothing in production', async () => {
    vi.stubEnv('NODE_ENV', 'production')
    const { LifelineDevtools } = await import('../../src/devtools')
    const scripted = createScriptedClient({ status: 'open', transport: 'websocket' })
    const { container } = render(<LifelineDevtools client={scripted.client} initialIsOpen />)
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20))
    })
    expect(container.innerHTML).toBe('')
    expect(document.querySelector('[data-lifeline-devtools]')).toBeNull()
  })
})
