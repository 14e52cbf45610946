/** A minimal typed event emitter. Listener errors are rethrown asynchronously so one bad listener cannot stall the rest. */
export interface Emitter<Events extends object> {
  on<K extends keyof Events>(type: K, listener: (payload: Events[K]) => void): () => void
  emit<K extends keyof Events>(type: K, payload: Events[K]): void
  clear(): void
  /** Number of listeners, for leak checks. */
  size(): number
}

/** Creates an {@link Emitter}. */
export function createEmitter<Events extends object>(): Emitter<Events> {
  const map = new Map<keyof Events, Set<(payload: never) => void>>()
  return {
    on(type, listener) {
      let set = map.get(type)
      if (!set) map.set(type, (set = new Set()))
      set.add(listener)
      return () => {
        set.delete(listener)
      }
    },
    emit(type, payload) {
      for (const listener of map.get(type) ?? []) {
        try {
          ;(listener as (value: typeof payload) => void)(payload)
        } catch (error) {
          queueMicrotask(() => {
            throw error
          })
        }
      }
    },
    clear: () => map.clear(),
    size: () => [...map.values()].reduce((count, set) => count + set.size, 0),
  }
}
