import { describe, expect, test } from "bun:test";
import { isIP } from "node:net";
import { ipVersionOf } from "../../src/common/ip-address.ts";

/** Addresses and near misses, each read by node:net's isIP too: ipVersionOf must answer the same. */
const SAMPLES = [
  "1.2.3.4", "127.0.0.1", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1.2.3.4 ", " 1.2.3.4",
  "::1", "::", "0:0:0:0:0:0:0:1", "fe80::1%eth0", "fe80::1%", "::ffff:127.0.0.1", "::ffff:1.2.3.256", "2001:db8::1",
  "2001:db8:::1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1::2::3", "1:2:3:4:5:6:1.2.3.4", "gggg::1", ":::", "12345::",
  "[::1]", "::1]", "::1/64", "::1#x", "a:b", "localhost", "example.com", "", "abcd",
];

describe("ipVersionOf", () => {
  test("answers as node:net's isIP for addresses, host names and near misses", () => {
    expect(SAMPLES.map((sample): [string, number] => [sample, ipVersionOf(sample)])).toEqual(SAMPLES.map((sample) => [sample, isIP(sample)]));
  });
});
