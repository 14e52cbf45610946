interface ImportMetaEnv {
  /** The lifeline server, e.g. `ws://127.0.0.1:8080/lifeline`. */
  readonly VITE_LIFELINE_URL?: string
}
