import { readFileSync } from 'node:fs';
import { formatProfileMarkdown, summariseProfile, type CpuProfile } from './cpu-profile.js';

/*
 * Top self-time functions of a .cpuprofile, as Markdown.
 * Run: node bench/dist/cpuprofile-top.js bench/results/<stamp>-podgate-1w-get.cpuprofile [15]
 */
const [file, n] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node bench/dist/cpuprofile-top.js FILE.cpuprofile [N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
process.stdout.write(formatProfileMarkdown(summariseProfile(profile, Number(n ?? '15')), file));
