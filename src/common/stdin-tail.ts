// The client library keeps a tail of each exec's stdin too, and may import nothing outside
// src/client/ and src/protocol/: the class lives there, the CLI and the page take it from here.
export { StdinTail } from "../client/stdin-tail.ts";
