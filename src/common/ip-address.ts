/**
 * IP address syntax without node:net, whose import measured about 3.5 ms of the compiled binary's
 * start to "listening" (the loopback check of --host runs before the server listens). IPv6 is read
 * by the WHATWG URL parser, which every runtime has, after an optional zone index (`%eth0`), which
 * node:net's isIP accepts and URLs do not.
 */

const IPV4_OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]\\d|\\d)";
/** Dotted decimal without leading zeros, as node:net's isIPv4 reads it. */
const IPV4 = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);
const IPV6_ZONE = /%[0-9a-zA-Z\-.:]+$/;

/** 4 or 6 for an IPv4 or IPv6 address, 0 for anything else (a host name, say): node:net's isIP. */
export function ipVersionOf(text: string): 0 | 4 | 6 {
  if (IPV4.test(text)) return 4;
  if (!text.includes(":") || /[[\]/?#@\s]/.test(text)) return 0;
  const address = text.replace(IPV6_ZONE, "");
  // WebKit's parser also takes a single trailing colon after `::` (`::1:`), which is no address.
  if (/[^:]:$/.test(address)) return 0;
  return URL.canParse(`http://[${address}]/`) ? 6 : 0;
}
