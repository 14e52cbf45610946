import { clamp } from './backoff'
import { defaultCloseCodes } from './close-codes'
import type { MachineConfig } from './machine'
import {
  heartbeatSchema,
  isNumberRule,
  optionSchema,
  outboxSchema,
  type HeartbeatOptions,
  type LifelineOptions,
  type NumberFields,
  type NumberRule,
  type OptionRule,
} from './option-schema'
import type { ResolvedOutboxOptions } from './outbox'
import { validateOptions } from './validate-options'

export type { HeartbeatOptions, LifelineOptions, UrlSource } from './option-schema'

/** Options with defaults applied. */
export interface ResolvedOptions {
  machine: MachineConfig
  outbox: ResolvedOutboxOptions
  heartbeat: Required<Pick<HeartbeatOptions, 'intervalMs' | 'timeoutMs'>> | null
  maxMessageBytes: number
}

/**
 * Applies defaults. In development builds every option is validated first (one `InvalidOptionsError` lists every bad
 * field); production builds skip that text-heavy check, as React does with its warnings, and clamp numbers into range.
 */
export function resolveOptions(options: LifelineOptions): ResolvedOptions {
  // Written inline (not an imported constant) so that bundlers drop the validator from production builds.
  if (process.env.NODE_ENV !== 'production') validateOptions(options)
  const hb = options.heartbeat === true ? {} : options.heartbeat
  const box = options.outbox
  const { maxMessageBytes, ...machine } = numbers(options, optionSchema)
  const overflow = outboxSchema.overflow
  return {
    machine: {
      ...machine,
      maxDelayMs: Math.max(machine.minDelayMs, machine.maxDelayMs),
      backoff: options.backoff ?? optionSchema.backoff[0],
      closeCodes: { ...defaultCloseCodes, ...options.closeCodes },
      canRefreshToken: typeof options.getToken === 'function',
    },
    outbox: {
      ...numbers(box, outboxSchema),
      overflow: overflow.find((name) => name === box?.overflow) ?? overflow[0],
    },
    heartbeat: hb ? numbers(hb, heartbeatSchema) : null,
    maxMessageBytes,
  }
}

/** The numeric fields of `table` read from `input`, defaulted and clamped. */
function numbers<Table extends Readonly<Record<string, OptionRule>>>(
  input: unknown,
  table: Table,
): NumberFields<Table> {
  const given = (input ?? {}) as Record<string, unknown>
  const value: Record<string, number | null> = {}
  for (const [name, rule] of Object.entries(table)) if (isNumberRule(rule)) value[name] = number(given[name], rule)
  return value as NumberFields<Table>
}

function number(value: unknown, [fallback, min, max]: NumberRule): number | null {
  return fallback === null && !value ? null : clamp(typeof value === 'number' ? value : (fallback ?? min), min, max)
}
