export * from "./client-messages.ts";
export * from "./server-messages.ts";
export * from "./errors.ts";
export * from "./version.ts";
export * from "./decode.ts";
export * from "./file-messages.ts";
export * from "./binary-frames.ts";
export * from "./session-id.ts";
