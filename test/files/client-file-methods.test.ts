import { expect, test } from "bun:test";
import { connect, type Session } from "../../src/client/index.ts";
import { useSharedServer } from "../helpers/shared-server.ts";

const shared = useSharedServer();

test("the client library writes, reads, lists, stats, moves, removes, uploads, downloads and watches files", async () => {
  await using session: Session = await connect(shared.server.url, { token: shared.server.token! });
  const { files } = session;
  expect(await files.exists("notes/a.txt")).toBe(false);
  expect(await files.write("notes/a.txt", "hello")).toMatchObject({ path: "notes/a.txt", size: 5 });
  expect(await files.read("notes/a.txt")).toBe("hello");
  expect(await files.exists("notes/a.txt")).toBe(true);
  // Nothing is below a file: false, not the server's not_directory thrown (a review).
  expect(await files.exists("notes/a.txt/x")).toBe(false);
  expect(await files.mkdir("notes/sub/deeper")).toBe(true);
  expect(await files.mkdir("notes/sub/deeper")).toBe(false);
  expect((await files.list("notes", { depth: 2 })).map((entry) => entry.path)).toEqual(["notes/a.txt", "notes/sub", "notes/sub/deeper"]);
  expect(await files.move("notes/a.txt", "notes/b.txt")).toMatchObject({ path: "notes/b.txt" });
  expect((await files.stat("notes/b.txt")).size).toBe(5);
  await expect(files.read("notes/a.txt")).rejects.toMatchObject({ code: "not_found" });

  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
  expect(await files.upload("big.bin", big)).toMatchObject({ size: big.length });
  const parts: Uint8Array[] = [];
  for await (const part of files.download("big.bin")) parts.push(part);
  expect(Buffer.concat(parts).equals(Buffer.from(big))).toBe(true);

  const watch = await files.watch("notes", { recursive: true });
  await files.write("notes/sub/new.txt", "x");
  for await (const event of watch) if (event.path === "notes/sub/new.txt") break;
  await watch.close();
  await files.remove("notes", { recursive: true });
  expect(await files.exists("notes")).toBe(false);
});
