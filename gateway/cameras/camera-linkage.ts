/**
 * The CameraLinkage the alarm linkage engine calls for rules that name a camera: turn to a
 * preset, take a snapshot and hand it to the media store; the engine attaches the returned
 * media id to the alarm. Failures are thrown as coded errors for the engine to note on the
 * alarm; they never hold the alarm up (the engine calls us after the alarm is recorded).
 */
import type { Alarm, CameraLinkage } from '../alarms/types.js';
import type { CameraControl, MediaStore } from './types.js';

export class CameraLinkageImpl implements CameraLinkage {
  constructor(
    private readonly cameras: Pick<CameraControl, 'snapshot' | 'gotoPreset'>,
    private readonly store: MediaStore,
  ) {}

  async snapshot(camera: string, alarm: Alarm): Promise<string | undefined> {
    const jpeg = await this.cameras.snapshot(camera);
    return this.store.put(camera, alarm.id, jpeg);
  }

  gotoPreset(camera: string, preset: string): Promise<void> {
    return this.cameras.gotoPreset(camera, preset);
  }
}
