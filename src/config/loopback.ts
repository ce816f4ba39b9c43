import { ipVersionOf } from "../common/ip-address.ts";

/**
 * Whether binding `host` keeps the server on this machine: 127.0.0.0/8, ::1 and localhost. Any
 * other name is taken to reach the network, since what it resolves to can change.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  if (bare === "localhost" || bare.endsWith(".localhost")) return true;
  switch (ipVersionOf(bare)) {
    case 4:
      return bare.startsWith("127.");
    case 6:
      return /^(0{0,4}:){2,7}0{0,3}1$/.test(bare) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(bare);
    default:
      return false;
  }
}
