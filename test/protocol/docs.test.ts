import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AckMessageSchema,
  AttachMessageSchema,
  CLIENT_MESSAGE_TYPES,
  CLOSE_CODES,
  decodeClientMessage,
  decodeOutputHeader,
  decodeServerMessage,
  ERROR_CODES,
  ExecInfoSchema,
  ExecMessageSchema,
  ExitMessageSchema,
  FileDownloadAckRequestSchema,
  FileDownloadRequestSchema,
  FileEntrySchema,
  FileListRequestSchema,
  FileMkdirRequestSchema,
  FileMoveRequestSchema,
  FileReadRequestSchema,
  FileUploadRequestSchema,
  FileWriteRequestSchema,
  HelloMessageSchema,
  OutputMessageSchema,
  SignalMessageSchema,
  StdinMessageSchema,
  StdinAckMessageSchema,
  ErrorMessageSchema,
} from "../../src/protocol/index.ts";

const PROTOCOL_MD = readFileSync(join(import.meta.dir, "..", "..", "docs", "PROTOCOL.md"), "utf8");

/** The text under a heading, up to the next heading of any level. */
function sectionOf(heading: string): string {
  const section = PROTOCOL_MD.split(`\n${heading}\n`)[1];
  if (section === undefined) throw new Error(`docs/PROTOCOL.md has no heading ${JSON.stringify(heading)}`);
  return section.split(/\n#{2,4} /)[0]!;
}

/** The rows `| \`code\` | text |` of the table under a heading, in order. */
function tableRows(heading: string): [string, string][] {
  return [...sectionOf(heading).matchAll(/^\| `([a-z_]+)` \| (.+?) \|$/gm)].map((match) => [match[1]!, match[2]!]);
}

/**
 * The top-level field names of the first table under a heading: each backticked name in a row's
 * first cell, `a.b` read as `a` (so `offsets.stdout` and `sandbox.backend` name their object).
 */
function documentedFields(heading: string): string[] {
  const table = sectionOf(heading).split("\n| Field |")[1];
  if (table === undefined) throw new Error(`no field table under ${heading}`);
  const fields = new Set<string>();
  for (const line of table.split("\n").slice(2)) {
    if (!line.startsWith("|")) break;
    const firstCell = line.split("|")[1]!;
    for (const match of firstCell.matchAll(/`([A-Za-z]+)(?:\.[A-Za-z]+)?`/g)) fields.add(match[1]!);
  }
  return [...fields].sort();
}

/** The entries of a schema, looking through a pipe (exec's object sits in one). */
function schemaFields(schema: v.GenericSchema & ({ entries: v.ObjectEntries } | { pipe: readonly unknown[] })): string[] {
  const object = "entries" in schema ? schema : (schema.pipe[0] as { entries: v.ObjectEntries });
  // The `type` that discriminates a message is not a field of its table; an entry's `type` is.
  const isDiscriminator = (key: string) => key === "type" && (object.entries[key] as { type: string }).type === "literal";
  return Object.keys(object.entries).filter((key) => !isDiscriminator(key)).sort();
}

/** One JSON example of the document, with where it sits and which way it goes. */
interface Example {
  line: number;
  text: string;
  direction: "client" | "server" | "unknown";
}

/**
 * Every JSON object in a fenced block: the lines of ```json blocks (an object may span several
 * lines; `> ` and `< ` mark the direction), and the `> {…}` / `< {…}` lines of the transcripts.
 * Lines that hold an ellipsis are placeholders (`…`), not examples, and are returned apart.
 */
function fencedExamples(): { examples: Example[]; placeholders: string[]; unparsed: string[] } {
  const examples: Example[] = [];
  const placeholders: string[] = [];
  const unparsed: string[] = [];
  const lines = PROTOCOL_MD.split("\n");
  let fence: string | undefined;
  let buffer: { start: number; text: string; direction: Example["direction"] } | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    if (line.startsWith("```")) {
      if (buffer) unparsed.push(`line ${buffer.start}: ${buffer.text}`);
      buffer = undefined;
      fence = fence === undefined ? line.slice(3).trim() : undefined;
      continue;
    }
    if (fence === undefined) continue;
    const marked = /^([<>]) (\{.*)$/.exec(line);
    const direction = marked ? (marked[1] === ">" ? "client" : "server") : "unknown";
    const body = marked ? marked[2]! : line;
    if (!buffer) {
      if (fence !== "json" && !marked) continue;
      if (fence === "json" && !marked && !body.startsWith("{")) continue;
      if (body.includes("…")) {
        placeholders.push(body);
        continue;
      }
      buffer = { start: index + 1, text: body, direction };
    } else {
      buffer.text += `\n${line}`;
    }
    try {
      JSON.parse(buffer.text);
      examples.push({ line: buffer.start, text: buffer.text, direction: buffer.direction });
      buffer = undefined;
    } catch {
      // An object that goes on over the next line.
    }
  }
  return { examples, placeholders, unparsed };
}

const { examples, placeholders, unparsed } = fencedExamples();

/** An example as a test title: one line. */
const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ");

test("docs/PROTOCOL.md lists every error code with exactly the sentence of ERROR_CODES", () => {
  expect(tableRows("### Error codes")).toEqual(Object.entries(ERROR_CODES));
});

test("every error code is sent by some part of the server", () => {
  const root = join(import.meta.dir, "..", "..", "src");
  let serverText = "";
  for (const folder of ["server", "exec", "files", "workspace", "sandbox"]) {
    for (const file of new Bun.Glob("**/*.ts").scanSync({ cwd: join(root, folder) })) serverText += readFileSync(join(root, folder, file), "utf8");
  }
  const sent = Object.keys(ERROR_CODES).filter((code) => serverText.includes(`"${code}"`));
  expect(Object.keys(ERROR_CODES).filter((code) => !sent.includes(code))).toEqual([]);
});

test("docs/PROTOCOL.md lists every close code of CLOSE_CODES with its number, name and sentence", () => {
  const rows = [...sectionOf("### Close codes").matchAll(/^\| (\d+) \| `([A-Za-z]+)` \| (.+?) \|/gm)].map((m) => [m[2]!, Number(m[1]), m[3]!]);
  const sentences = readFileSync(join(import.meta.dir, "..", "..", "src", "protocol", "errors.ts"), "utf8");
  expect(rows.map(([name, code]) => [name, code]).sort()).toEqual(Object.entries(CLOSE_CODES).sort());
  // Each row's meaning is the JSDoc line above that code in errors.ts.
  for (const [name, , meaning] of rows) expect(sentences).toContain(`/** ${meaning} */\n  ${name}:`);
});

describe("the fenced JSON examples of docs/PROTOCOL.md decode with the real schemas, field for field", () => {
  test("every fenced example parses as JSON, and only placeholders with … are left out", () => {
    expect(unparsed).toEqual([]);
    expect(examples.length).toBeGreaterThan(100);
    // The upload and download walk-throughs elide their data and entries; nothing else may.
    expect(placeholders.every((text) => text.includes("file.upload") || text.includes("file.download") || text === "…")).toBe(true);
  });

  const typeOf = (text: string): unknown => (JSON.parse(text) as { type?: unknown }).type;
  const isClientType = (type: unknown) => (CLIENT_MESSAGE_TYPES as readonly unknown[]).includes(type);

  /** The reply a transcript shows right after a client example, when it is a bad_message: the example is a mistake on purpose. */
  const badMessageReply = (index: number): { id?: string; message: string } | undefined => {
    const next = examples[index + 1];
    if (next?.direction !== "server") return undefined;
    const reply = JSON.parse(next.text) as { type: string; code?: string; id?: string; message: string };
    return reply.type === "error" && reply.code === "bad_message" ? reply : undefined;
  };

  test.each(
    examples.flatMap((e, index) => (e.direction === "client" || (e.direction === "unknown" && isClientType(typeOf(e.text))) ? [[e.line, oneLine(e.text), e.text, index] as const] : [])),
  )("client example at line %d decodes, with no field the schema drops: %s", (_line, _title, text, index) => {
    const refused = badMessageReply(index);
    // A mistake shown on purpose is refused with exactly the problem its reply quotes.
    if (refused) expect(decodeClientMessage(text)).toEqual({ ok: false, ...(refused.id !== undefined && { id: refused.id }), problem: refused.message });
    else expect(decodeClientMessage(text)).toEqual({ ok: true, message: JSON.parse(text) });
  });

  test.each(examples.filter((e) => e.direction === "server" || (e.direction === "unknown" && typeOf(e.text) !== undefined && !isClientType(typeOf(e.text)))).map((e) => [e.line, oneLine(e.text), e.text]))(
    "server example at line %d decodes, with no field the schema drops: %s",
    (_line, _title, text) => {
      const decoded = decodeServerMessage(text);
      expect(decoded).toEqual({ ok: true, message: JSON.parse(text) });
    },
  );

  test.each(examples.filter((e) => e.direction === "unknown" && typeOf(e.text) === undefined).map((e) => [e.line, oneLine(e.text), e.text]))(
    "ExecInfo example at line %d decodes: %s",
    (_line, _title, text) => {
      const result = v.safeParse(ExecInfoSchema, JSON.parse(text));
      expect(result.issues).toBeUndefined();
      expect(result.output).toEqual(JSON.parse(text));
    },
  );

  test("the binary header of the PTY transcript decodes to the chunk it names", () => {
    const header = /^< binary ((?:[0-9a-f]{2} ?)+)$/m.exec(sectionOf("### A PTY exec"))![1]!;
    const bytes = Uint8Array.from(header.trim().split(" ").map((byte) => Number.parseInt(byte, 16)));
    expect(decodeOutputHeader(bytes)).toEqual({ id: "b", stream: "stdout", offset: 0 });
  });
});

describe("every field table of docs/PROTOCOL.md names exactly the schema's fields", () => {
  const cases: [string, Parameters<typeof schemaFields>[0], string[]][] = [
    ["### exec", ExecMessageSchema, []],
    ["### stdin", StdinMessageSchema, []],
    ["### signal", SignalMessageSchema, []],
    ["### attach", AttachMessageSchema, []],
    ["### ack", AckMessageSchema, []],
    ["### hello", HelloMessageSchema, []],
    ["#### ExecInfo", ExecInfoSchema, []],
    // output and exit tables leave out the `id` every exec message has.
    ["### output", OutputMessageSchema, ["id"]],
    ["### exit", ExitMessageSchema, ["id"]],
    ["### error", ErrorMessageSchema, []],
    ["### stdin.ack", StdinAckMessageSchema, []],
    ["### Files: file.list", FileListRequestSchema, ["id"]],
    ["### Files: file.read", FileReadRequestSchema, ["id"]],
    ["### Files: file.write", FileWriteRequestSchema, ["id"]],
    ["### Files: file.mkdir", FileMkdirRequestSchema, ["id"]],
    ["### Files: file.move", FileMoveRequestSchema, ["id"]],
    ["### Files: file.upload", FileUploadRequestSchema, ["id"]],
    ["### Files: file.download", FileDownloadRequestSchema, ["id"]],
    ["### Files: file.download.ack", FileDownloadAckRequestSchema, ["id"]],
    ["### Files: Entries", FileEntrySchema, []],
  ];
  test.each(cases)("%s", (heading, schema, undocumented) => {
    expect(documentedFields(heading)).toEqual(schemaFields(schema).filter((field) => !undocumented.includes(field)));
  });
});
