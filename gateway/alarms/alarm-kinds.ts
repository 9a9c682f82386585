/**
 * The alarm kinds the families declared, with their default priorities. Each family lists
 * its own kinds (`gateway/<family>/alarm-kinds.ts`) instead of one table here knowing every
 * family's kinds; the AlarmManager asks this registry for the priority of a condition that
 * brings none.
 *
 * A kind nobody declared still raises (at FALLBACK_PRIORITY: an unknown condition is worth
 * a look rather than being missed), but it is logged once per kind so the missing
 * declaration shows up in the field log instead of silently taking a guessed priority.
 */
import type { AlarmPriority } from '../../config/schema.js';
import type { Logger } from '../core/log.js';
import type { AlarmKind } from '../families/family.js';

/** Priority of a raised kind that nobody declared and whose condition brings none. */
export const FALLBACK_PRIORITY: AlarmPriority = 'high';

export class AlarmKinds {
  private readonly kinds = new Map<string, AlarmKind>();
  private readonly warned = new Set<string>();

  constructor(private readonly log: Logger) {}

  /**
   * Adds a family's kinds. The same kind declared twice with the same priority is one kind
   * (locks and cabinets both raise `device.offline`); a different priority keeps the first
   * declaration and says so, since which one wins must not depend on the order of families.
   */
  declare(kinds: readonly AlarmKind[]): void {
    for (const k of kinds) {
      const known = this.kinds.get(k.kind);
      if (!known) this.kinds.set(k.kind, { ...k });
      else if (known.priority !== k.priority) {
        const msg = 'alarm kind declared twice with different priorities; the first one is kept';
        this.log.error({ kind: k.kind, kept: known.priority, refused: k.priority }, msg);
      }
    }
  }

  /** The declared kind, if any. */
  get(kind: string): AlarmKind | undefined {
    const k = this.kinds.get(kind);
    return k && { ...k };
  }

  /** Every declared kind, for docs, the console and tests. */
  list(): AlarmKind[] {
    return [...this.kinds.values()].map((k) => ({ ...k }));
  }

  /**
   * The priority of a raise: the one the condition brings, else the declared one, else the
   * fallback. An undeclared kind is logged the first time it is raised.
   */
  priorityOf(kind: string, given: AlarmPriority | undefined): AlarmPriority {
    const declared = this.kinds.get(kind);
    if (!declared && !this.warned.has(kind)) {
      this.warned.add(kind);
      this.log.warn({ kind, priority: given ?? FALLBACK_PRIORITY }, 'alarm kind raised that no family declared');
    }
    return given ?? declared?.priority ?? FALLBACK_PRIORITY;
  }
}
