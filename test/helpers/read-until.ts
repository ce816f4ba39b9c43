/** Reads a stream until its text ends with `expected`; the rest stays readable through the same iterator. Returns the text read. */
export async function readUntil(iterator: AsyncIterator<Uint8Array>, expected: string): Promise<string> {
  let text = "";
  const decoder = new TextDecoder();
  while (!text.endsWith(expected)) {
    const { done, value } = await iterator.next();
    if (done) throw new Error(`the stream ended before ${JSON.stringify(expected)}; got ${JSON.stringify(text)}`);
    text += decoder.decode(value, { stream: true });
  }
  return text;
}
