/**
 * Writing one cabinet command to the wire, at high priority, with the function code the
 * register map gives (FC 06 for stop, enable/disable and the cut; FC 16 for blocks).
 */
import { encodeCommand } from '../../drivers/cabinet/registers.js';
import type { CabinetCommand } from '../../drivers/cabinet/types.js';
import type { ModbusBus } from '../../drivers/modbus/bus.js';
import { GatehouseError, isGatehouseError } from '../core/errors.js';
import type { Logger } from '../core/log.js';

export interface CabinetTarget {
  cabinet: string;
  bus: ModbusBus;
  unitId: number;
  portCount: number;
  log: Logger;
}

/**
 * Settles with the cabinet's answer. A failed safety write resolves (the interlock
 * re-asserts on the next reading); a failed command rejects, a refusal as DEVICE_REFUSED
 * with `reason: refused_by_cabinet`.
 */
export async function writeCommand(t: CabinetTarget, cmd: CabinetCommand, why: 'safety' | 'command'): Promise<void> {
  try {
    for (const w of encodeCommand(cmd, t.portCount)) {
      if (w.fc === 6) await t.bus.writeSingle(t.unitId, w.address, w.values[0]!, { priority: 'high' });
      else await t.bus.write(t.unitId, w.address, w.values, { priority: 'high' });
    }
  } catch (err) {
    t.log.warn({ cabinet: t.cabinet, cmd, why, err: (err as Error).message }, 'cabinet command failed');
    if (why === 'safety') return; // the interlock re-asserts when the next reading shows it did not take
    if (isGatehouseError(err, 'DEVICE_REFUSED')) {
      const port = 'port' in cmd ? cmd.port : undefined;
      throw new GatehouseError(
        'DEVICE_REFUSED',
        `cabinet ${t.cabinet} refused ${cmd.kind}${port !== undefined ? ` on port ${port}` : ''} in its current state`,
        { cabinet: t.cabinet, ...(port !== undefined ? { port } : {}), reason: 'refused_by_cabinet', modbusCode: err.details?.modbusCode },
      );
    }
    throw err;
  }
}
