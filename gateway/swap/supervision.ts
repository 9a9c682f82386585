/**
 * Whether a swap cabinet is supervised (issue 17, as the charging cabinets are for issue 11):
 * a poll whose safety registers could not all be read or decoded (smoke, cabinet temperature,
 * mains, power, suppression, a pack's temperature or presence; or a read the cabinet refused)
 * is blind. `unsupervisedAfterPolls` blind polls in a row raise `cabinet.unsupervised` and
 * cut the cabinet: nobody knows what heated or smoked meanwhile, so it fails safe. The cut
 * holds (re-asserted on every reading) until `cabinet.power` on after supervision returned;
 * the alarm clears by itself when a poll reads every safety register again.
 */
export type SupervisionChange = 'unsupervised' | 'supervised' | undefined;

export class SwapSupervision {
  blindPolls = 0;
  unsupervised = false;
  /** The power was cut for lack of supervision and not restored yet. */
  cut = false;

  constructor(private readonly afterPolls: number) {}

  /** One poll's verdict; says when the state changed. */
  poll(blind: boolean): SupervisionChange {
    if (!blind) {
      this.blindPolls = 0;
      if (!this.unsupervised) return undefined;
      this.unsupervised = false;
      return 'supervised';
    }
    this.blindPolls++;
    if (this.unsupervised || this.blindPolls < this.afterPolls) return undefined;
    this.unsupervised = true;
    this.cut = true;
    return 'unsupervised';
  }
}
