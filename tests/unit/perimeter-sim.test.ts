/**
 * The input-module simulator without sockets: its Modbus answers, and the scenario's timed
 * actions on a ManualClock (a beam broken for 300 ms, an intruder crossing beams in turn).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../gateway/core/clock.js';
import { isGatehouseError } from '../../gateway/core/errors.js';
import { PerimeterScenario } from '../../sim/perimeter/scenario.js';
import { SimInputModule } from '../../sim/perimeter/sim-module.js';

describe('SimInputModule', () => {
  it('serves inputs, the input register, supervision and coils; refuses the rest', () => {
    const m = new SimInputModule({ id: 'm', channels: 8, supervisionAddress: 100, inputRegister: 200, coils: 2 });
    m.setInput(1, true);
    m.setFault(2, true);
    expect(m.handle({ fc: 2, address: 0, count: 8 })).toEqual({ fc: 2, bits: [false, true, false, false, false, false, false, false] });
    expect(m.handle({ fc: 4, address: 200, count: 1 })).toEqual({ fc: 4, values: [0b10] });
    expect(m.handle({ fc: 3, address: 100, count: 1 })).toEqual({ fc: 3, values: [0b100] });
    expect(m.handle({ fc: 5, address: 1, value: true })).toEqual({ fc: 5, address: 1, value: true });
    expect(m.handle({ fc: 1, address: 0, count: 2 })).toEqual({ fc: 1, bits: [false, true, false, false, false, false, false, false] });
    expect(m.handle({ fc: 2, address: 4, count: 5 })).toEqual({ fc: 2, exception: 2 });
    expect(m.handle({ fc: 15, address: 1, values: [true, true] })).toEqual({ fc: 15, exception: 2 });
    let code: unknown;
    try {
      m.handle({ fc: 6, address: 0, value: 1 });
    } catch (err) {
      code = isGatehouseError(err) ? err.details?.exception : err;
    }
    expect(code).toBe(1);
    expect(m.inputReads).toBe(2);
    expect(() => new SimInputModule({ id: 'x', channels: 12 as 8 })).toThrow(/8 or 16/);
  });
});

describe('PerimeterScenario', () => {
  const setup = () => {
    const clock = new ManualClock();
    const m = new SimInputModule({ id: 'm', channels: 8 });
    const s = new PerimeterScenario(
      new Map([['m', m]]),
      [
        { id: 'beam-1', module: 'm', channel: 0, contact: 'NC' },
        { id: 'beam-2', module: 'm', channel: 1, contact: 'NC' },
        { id: 'sos', module: 'm', channel: 2, contact: 'NO' },
        { id: 'fence', module: 'm', channel: 3, contact: 'NC' },
      ],
      clock,
    );
    s.quiet();
    return { clock, m, s };
  };

  it('quiet: NC inputs active, NO inputs inactive', () => {
    const { m } = setup();
    expect(m.inputs.slice(0, 4)).toEqual([true, true, false, true]);
  });

  it('a beam crossing breaks an NC beam for 300 ms; SOS closes an NO contact; a fence cut sets the fault bit', async () => {
    const { clock, m, s } = setup();
    const done = s.beam('beam-1').cross(300);
    expect(m.inputs[0]).toBe(false);
    clock.advance(299);
    expect(m.inputs[0]).toBe(false);
    clock.advance(1);
    await done;
    expect(m.inputs[0]).toBe(true);
    s.sos('sos').hold();
    expect(m.inputs[2]).toBe(true);
    s.fence('fence').cut();
    expect(m.faults[3]).toBe(true);
    s.fence('fence').repair();
    expect(m.faults[3]).toBe(false);
  });

  it('an intruder crosses the beams one after another', async () => {
    const { clock, m, s } = setup();
    /** Timers fire inside advance(); the scenario's continuations run on the microtasks after it. */
    const step = async (ms: number) => {
      clock.advance(ms);
      await new Promise((r) => setImmediate(r));
    };
    const walk = s.intruder(['beam-1', 'beam-2'], { stepMs: 1000, crossMs: 300 });
    expect(m.inputs.slice(0, 2)).toEqual([false, true]);
    await step(300);
    expect(m.inputs.slice(0, 2)).toEqual([true, true]);
    await step(700);
    expect(m.inputs.slice(0, 2)).toEqual([true, false]);
    await step(300);
    await walk;
    expect(m.inputs.slice(0, 2)).toEqual([true, true]);
  });
});
