// Flips `<dir>/flip` between a directory and a symlink to / in a tight loop for `<ms>` milliseconds,
// then prints how many flips it made. Usage: bun flip-component.ts <dir> <ms>
// `<dir>/D` must be a directory and `<dir>/L` a symlink; between flips `flip` is briefly absent.
import { renameSync, rmSync } from "node:fs";
import { join } from "node:path";

const [dir = ".", msArg = "2000"] = process.argv.slice(2);
const [real, link, flip] = [join(dir, "D"), join(dir, "L"), join(dir, "flip")];
const end = Date.now() + Number(msArg);
let flips = 0;
while (Date.now() < end) {
  for (let i = 0; i < 100; i++) {
    try {
      renameSync(real, flip);
      renameSync(flip, real);
      renameSync(link, flip);
      renameSync(flip, link);
      flips += 2;
    } catch {
      // Something else made `flip` meanwhile (a request with parents: true, say): clear it and go on.
      rmSync(flip, { recursive: true, force: true });
    }
  }
}
process.stdout.write(`${flips}\n`);
