import type { ReactNode } from 'react'

/** The stylesheet's themes, picked with the `theme` control of the Default stories. */
export type StoryTheme = 'light' | 'dark'

/**
 * `data-theme` for the optional stylesheet (react-lifeline/styles.css), on a page of the theme's colours, so a Default
 * story shows the component as it would look on a light or a dark page whatever the system prefers.
 */
export function Themed(props: { theme: StoryTheme | undefined; children: ReactNode }) {
  const dark = props.theme === 'dark'
  return (
    <div
      data-theme={props.theme ?? 'light'}
      style={{ padding: '1rem', color: dark ? '#f0f6fc' : '#1f2328', background: dark ? '#0d1117' : '#ffffff' }}
    >
      {props.children}
    </div>
  )
}
