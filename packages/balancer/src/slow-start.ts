import { FULL_WEIGHT, type Peer } from './peer.js';

/** New (after the first DNS answer) and returning peers ramp from a tenth of a share to a full one. */
export class SlowStart {
  private readonly windowMs: number;
  private ramping = 0;

  /** `windowMs` 0: off, every peer takes a full share at once. */
  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  start(peer: Peer, now: number): void {
    if (this.windowMs <= 0) return;
    if (peer.rampStart === null) this.ramping++;
    peer.rampStart = now;
    peer.weight = FULL_WEIGHT / 10;
  }

  /** The peer left the table. */
  forget(peer: Peer): void {
    if (peer.rampStart !== null) this.ramping--;
  }

  /**
   * Weights of ramping peers follow the clock, in tenths of a full share so the picker is reset at
   * most ten times per ramp. Returns true when a weight changed.
   */
  tick(peers: ReadonlyMap<string, Peer>, now: number): boolean {
    const window = this.windowMs;
    if (window <= 0 || this.ramping === 0) return false;
    let changed = false;
    for (const peer of peers.values()) {
      if (peer.rampStart === null) continue;
      const share = Math.min(1, (now - peer.rampStart) / window);
      const weight = share >= 1 ? FULL_WEIGHT : Math.max(FULL_WEIGHT / 10, Math.ceil(share * 10) * (FULL_WEIGHT / 10));
      if (share >= 1) {
        peer.rampStart = null;
        this.ramping--;
      }
      if (weight !== peer.weight) {
        peer.weight = weight;
        changed = true;
      }
    }
    return changed;
  }
}
