import { BunkerError } from "../../src/client/index.ts";

/** How a client-library promise ended: its value, or the code of the BunkerError (or the text of another error) it rejected with. */
export async function settled<T>(promise: Promise<T>): Promise<{ value: T } | { code: string }> {
  try {
    return { value: await promise };
  } catch (error) {
    return { code: error instanceof BunkerError ? String(error.code) : String(error) };
  }
}
