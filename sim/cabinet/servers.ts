/**
 * The cabinet simulator's transports: the generic simulated Modbus servers of
 * sim/modbus/servers.ts, shared with the input modules of sim/perimeter, under the names
 * the cabinet code and its tests use.
 */
export {
  ModbusRtuLine as CabinetRtuBus,
  ModbusTcpServer as CabinetTcpServer,
  type RtuBusOptions,
  type SimModbusUnit,
} from '../modbus/servers.js';
