/**
 * Camera commands for the router: `camera.snapshot` (stored through the media store; the
 * answer carries the media id), `camera.ptz.goto` and `camera.ptz.set`. A guard may take
 * a snapshot and turn a camera to a preset, but not redefine presets (those are what alarm
 * linkage points cameras at).
 */
import { z } from 'zod';
import { Id } from '../../config/schema.js';
import { defineCommand, type CommandDefinition } from '../commands/types.js';
import { GatehouseError } from '../core/errors.js';
import type { CameraControl, MediaStore } from './types.js';

/** Preset tokens and names go into SOAP: printable, no markup, bounded. */
const PresetRef = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[^<>&"'\x00-\x1f]+$/, 'printable characters only, no < > & " \'');

export const SnapshotArgs = z.object({ camera: Id }).strict();
export const GotoArgs = z.object({ camera: Id, preset: PresetRef }).strict();
export const SetArgs = z.object({ camera: Id, preset: PresetRef, name: PresetRef.optional() }).strict();

export function cameraCommands(cameras: CameraControl, store: MediaStore): CommandDefinition[] {
  const known = (camera: string) => {
    if (!cameras.has(camera)) throw new GatehouseError('DEVICE_UNKNOWN', `no camera "${camera}" in the compound file`, { camera });
  };
  return [
    defineCommand({
      name: 'camera.snapshot',
      description:
        'Takes a snapshot now and stores it (not tied to an alarm: the store announces it as `camera.snapshot`); answers with the media id.',
      args: SnapshotArgs,
      roles: ['platform', 'guard', 'admin'],
      handler: async (args) => {
        known(args.camera);
        const jpeg = await cameras.snapshot(args.camera);
        const media = await store.put(args.camera, undefined, jpeg);
        return { camera: args.camera, media, bytes: jpeg.length };
      },
    }),
    defineCommand({
      name: 'camera.ptz.goto',
      description: 'Turns a PTZ camera to a stored preset, named by token or by name.',
      args: GotoArgs,
      roles: ['platform', 'guard', 'admin'],
      handler: async (args) => {
        known(args.camera);
        await cameras.gotoPreset(args.camera, args.preset);
        return { camera: args.camera, preset: args.preset };
      },
    }),
    defineCommand({
      name: 'camera.ptz.set',
      description:
        'Stores the current position as a preset: overwrites the preset with this token or name, or creates one named `name` (default `preset`).',
      args: SetArgs,
      roles: ['platform', 'admin'],
      handler: async (args) => {
        known(args.camera);
        const p = await cameras.setPreset(args.camera, args.preset, args.name);
        return { camera: args.camera, preset: p.token, name: p.name };
      },
    }),
  ] as CommandDefinition[];
}
