import { LabError } from './lab-error.js';

// Second octets handed out to clusters that do not pick one. The base comes from the pid so
// clusters in parallel test processes rarely share a subnet; a clash is still survived,
// because the cluster skips any address already bound. 127.201–202 are left to lab tests.
const FIRST_SUBNET = 10;
const SUBNET_COUNT = 190;
let subnetCounter = process.pid % SUBNET_COUNT;

export function nextSubnet(): number {
  const subnet = FIRST_SUBNET + (subnetCounter % SUBNET_COUNT);
  subnetCounter++;
  return subnet;
}

/**
 * Hands out fresh loopback addresses 127.<subnet>.x.y, never the same one twice: a pod that
 * comes back on an old IP would hide exactly the bugs the lab is for (stale peers).
 */
export class AddressAllocator {
  readonly #subnet: number;
  #next = 0;

  constructor(subnet: number) {
    if (!Number.isInteger(subnet) || subnet < 1 || subnet > 254) {
      throw new LabError('LAB_INVALID_OPTION', `invalid subnet ${subnet}: the second octet must be 1..254`);
    }
    this.#subnet = subnet;
  }

  next(): string {
    // .0 and .255 are skipped in the last octet so no address looks like a network or broadcast.
    const x = Math.floor(this.#next / 254);
    const y = (this.#next % 254) + 1;
    if (x > 255) throw new LabError('LAB_NO_FREE_ADDRESS', `subnet 127.${this.#subnet}.0.0/16 is used up`);
    this.#next++;
    return `127.${this.#subnet}.${x}.${y}`;
  }
}
