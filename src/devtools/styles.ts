/**
 * The panel's stylesheet, injected into its shadow root: the app's CSS cannot reach in and this cannot leak out.
 * Colour pairs meet WCAG AA (4.5:1) in both themes.
 */
export const devtoolsCss = `
:host { all: initial; }
.ld-root {
  --ld-bg: #ffffff; --ld-fg: #1b1f24; --ld-muted: #57606a; --ld-border: #d0d7de; --ld-accent: #0a58ca;
  --ld-accent-fg: #ffffff; --ld-surface: #f6f8fa; --ld-bad: #b3261e; --ld-good: #116329; --ld-warn: #7a4a00;
  --ld-range: rgba(10, 88, 202, 0.18);
  font: 12px/1.4 ui-sans-serif, system-ui, -apple-system, 'Segoe UI', sans-serif; color: var(--ld-fg);
}
.ld-root[data-theme='dark'] {
  --ld-bg: #0d1117; --ld-fg: #e6edf3; --ld-muted: #9da7b3; --ld-border: #30363d; --ld-accent: #58a6ff;
  --ld-accent-fg: #0d1117; --ld-surface: #161b22; --ld-bad: #ff7b72; --ld-good: #3fb950; --ld-warn: #d29922;
  --ld-range: rgba(88, 166, 255, 0.25);
}
@media (prefers-color-scheme: dark) {
  .ld-root[data-theme='system'] {
    --ld-bg: #0d1117; --ld-fg: #e6edf3; --ld-muted: #9da7b3; --ld-border: #30363d; --ld-accent: #58a6ff;
    --ld-accent-fg: #0d1117; --ld-surface: #161b22; --ld-bad: #ff7b72; --ld-good: #3fb950; --ld-warn: #d29922;
    --ld-range: rgba(88, 166, 255, 0.25);
  }
}
.ld-root *, .ld-root *::before, .ld-root *::after { box-sizing: border-box; }
.ld-toggle {
  position: fixed; bottom: 12px; z-index: 2147483646; border: 1px solid var(--ld-border); border-radius: 999px;
  background: var(--ld-bg); color: var(--ld-fg); padding: 6px 12px; font: inherit; cursor: pointer;
  display: inline-flex; gap: 6px; align-items: center;
}
.ld-toggle[data-position='bottom-right'] { right: 12px; }
.ld-toggle[data-position='bottom-left'] { left: 12px; }
.ld-dot { width: 8px; height: 8px; border-radius: 50%; background: var(--ld-muted); }
.ld-dot[data-status='open'] { background: var(--ld-good); }
.ld-dot[data-status='reconnecting'], .ld-dot[data-status='connecting'] { background: var(--ld-warn); }
.ld-dot[data-status='failed'], .ld-dot[data-status='offline'] { background: var(--ld-bad); }
.ld-panel {
  position: fixed; left: 0; right: 0; bottom: 0; z-index: 2147483647; background: var(--ld-bg);
  border-top: 1px solid var(--ld-border); display: flex; flex-direction: column; min-height: 120px; max-height: 95vh;
}
.ld-resize { height: 6px; cursor: ns-resize; background: var(--ld-surface); border: 0; border-bottom: 1px solid var(--ld-border); }
.ld-resize:focus-visible, .ld-root button:focus-visible, .ld-root [role='tab']:focus-visible,
.ld-root input:focus-visible, .ld-root select:focus-visible, .ld-root [tabindex]:focus-visible {
  outline: 2px solid var(--ld-accent); outline-offset: 1px;
}
.ld-header { display: flex; align-items: center; gap: 8px; padding: 4px 8px; border-bottom: 1px solid var(--ld-border); }
.ld-title { font-weight: 600; margin: 0; font-size: 13px; }
.ld-summary { color: var(--ld-muted); flex: 1; }
.ld-tabs { display: flex; gap: 2px; }
.ld-tab {
  border: 1px solid transparent; background: none; color: var(--ld-fg); font: inherit; padding: 4px 8px; cursor: pointer;
  border-radius: 4px;
}
.ld-tab[aria-selected='true'] { background: var(--ld-accent); color: var(--ld-accent-fg); }
.ld-body { overflow: auto; flex: 1; padding: 8px; }
.ld-root button.ld-btn, .ld-root select, .ld-root input {
  font: inherit; color: var(--ld-fg); background: var(--ld-surface); border: 1px solid var(--ld-border);
  border-radius: 4px; padding: 2px 8px;
}
.ld-root button.ld-btn:disabled { color: var(--ld-muted); cursor: not-allowed; }
.ld-table { border-collapse: collapse; width: 100%; }
.ld-table th, .ld-table td { text-align: left; padding: 2px 6px; border-bottom: 1px solid var(--ld-border); vertical-align: top; }
.ld-table th { color: var(--ld-muted); font-weight: 600; }
.ld-mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.ld-muted { color: var(--ld-muted); }
.ld-bad { color: var(--ld-bad); }
.ld-row { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 8px; }
.ld-charts { display: flex; flex-wrap: wrap; gap: 16px; margin-bottom: 8px; }
.ld-chart { color: var(--ld-fg); }
.ld-chart .ld-range { fill: var(--ld-range); }
.ld-chart .ld-point { fill: var(--ld-accent); }
.ld-chart .ld-line { stroke: var(--ld-accent); fill: none; stroke-width: 1.5; }
.ld-chart .ld-axis { stroke: var(--ld-border); }
.ld-chart text { fill: var(--ld-muted); font-size: 10px; }
.ld-payload { white-space: pre-wrap; word-break: break-all; margin: 0; }
.ld-note { color: var(--ld-muted); margin: 4px 0; }
.ld-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`
