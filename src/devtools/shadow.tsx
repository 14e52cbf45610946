'use client'
import { useLayoutEffect, useState, type ReactNode } from 'react'
import { createPortal } from 'react-dom'
import { devtoolsCss } from './styles'

/** Props of {@link ShadowPortal}. */
export interface ShadowPortalProps {
  /** Where the host element goes. @default document.body */
  container?: HTMLElement | undefined
  children: ReactNode
}

/**
 * Renders `children` into the open shadow root of a host element appended to `container`, with the panel's
 * stylesheet: app CSS cannot restyle the panel, and the panel's CSS cannot leak into the app.
 */
export function ShadowPortal(props: ShadowPortalProps): ReactNode {
  const { container, children } = props
  const [root, setRoot] = useState<ShadowRoot | null>(null)
  useLayoutEffect(() => {
    const host = document.createElement('div')
    host.setAttribute('data-lifeline-devtools', '')
    const shadow = host.attachShadow({ mode: 'open' })
    const style = document.createElement('style')
    style.textContent = devtoolsCss
    shadow.appendChild(style)
    ;(container ?? document.body).appendChild(host)
    setRoot(shadow)
    return () => {
      host.remove()
      setRoot(null)
    }
  }, [container])
  return root ? createPortal(children, root) : null
}
