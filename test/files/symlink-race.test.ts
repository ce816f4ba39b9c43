import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { createHarness, type Received } from "./helpers/harness.ts";

const RACE_MS = 2500;
const WORKERS = 4;
const marker = `bunker-race-${randomBytes(6).toString("hex")}`;
const outsideSentinels = ["remove", "append", "move"].map((what) => join("/tmp", `${marker}-${what}`));
const outsideCreations = ["write", "mkdir", "upload"].map((what) => join("/tmp", `${marker}-${what}`));

afterAll(() => {
  for (const path of [...outsideSentinels, ...outsideCreations]) rmSync(path, { recursive: true, force: true });
});

test.skipIf(process.platform !== "linux")(
  "a component flipped between a directory and a symlink to / for 2.5 s never lets a read, write or anything else out",
  async () => {
    const workspace = realpathSync(mkdtempSync(join(tmpdir(), "bunker-race-")));
    mkdirSync(join(workspace, "D", "etc"), { recursive: true });
    mkdirSync(join(workspace, "D", "tmp"));
    writeFileSync(join(workspace, "D", "etc", "passwd"), "INSIDE");
    for (const path of outsideSentinels) {
      writeFileSync(path, "OUT");
      writeFileSync(join(workspace, "D", "tmp", `${marker}-${path.split("-").at(-1)}`), "IN");
    }
    symlinkSync("/", join(workspace, "L"));
    using h = createHarness({ workspace });

    const flipper = Bun.spawn([process.execPath, join(import.meta.dir, "helpers", "flip-component.ts"), workspace, String(RACE_MS)], { stdout: "pipe" });
    const outcomes = new Map<string, number>();
    const escapes: string[] = [];
    const count = (what: string, reply: Received) => {
      const key = `${what}:${reply.type === "error" ? reply.code : "ok"}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    };
    let sequence = 0;
    const id = () => String(++sequence);
    const worker = async () => {
      const end = performance.now() + RACE_MS;
      while (performance.now() < end) {
        const read = await h.request({ type: "file.read", id: id(), path: "flip/etc/passwd" });
        if (read.type === "file.read.result" && read.data !== "INSIDE") escapes.push(`read returned ${JSON.stringify(read.data.slice(0, 40))}`);
        count("read", read);
        const stat = await h.request({ type: "file.stat", id: id(), path: "flip/etc/passwd" });
        if (stat.type === "file.stat.result" && stat.entry.size !== 6) escapes.push(`stat saw a file of ${stat.entry.size} bytes`);
        count("stat", stat);
        const list = await h.request({ type: "file.list", id: id(), path: "flip/etc" });
        if (list.type === "file.list.result" && list.entries.some((entry) => entry.name !== "passwd")) escapes.push("list saw names of the real /etc");
        count("list", list);
        count("write", await h.request({ type: "file.write", id: id(), path: `flip/tmp/${marker}-write`, data: "x", parents: false }));
        count("append", await h.request({ type: "file.write", id: id(), path: `flip/tmp/${marker}-append`, data: "+", ifExists: "append", parents: false }));
        count("mkdir", await h.request({ type: "file.mkdir", id: id(), path: `flip/tmp/${marker}-mkdir` }));
        count("remove", await h.request({ type: "file.remove", id: id(), path: `flip/tmp/${marker}-remove` }));
        count("move", await h.request({ type: "file.move", id: id(), from: `flip/tmp/${marker}-move`, to: `moved-${sequence}` }));
        const download = id();
        const ready = await h.request({ type: "file.download", id: download, path: "flip/etc/passwd" });
        count("download", ready);
        if (ready.type === "file.download.ready") {
          const chunk = await h.next((reply) => reply.id === download && reply.type !== "file.download.done");
          if (chunk.type === "file.download.chunk" && Buffer.from(chunk.data, "base64").toString() !== "INSIDE") escapes.push("download returned outside bytes");
          await h.next((reply) => reply.id === download);
        }
        const upload = id();
        const opened = await h.request({ type: "file.upload", id: upload, path: `flip/tmp/${marker}-upload`, parents: false });
        count("upload", opened);
        if (opened.type === "file.upload.ready") {
          h.handler.handle({ type: "file.upload.chunk", id: upload, offset: 0, data: "eA==", eof: true });
          await h.next((reply) => reply.id === upload);
        }
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    const flips = Number((await new Response(flipper.stdout).text()).trim());
    await flipper.exited;

    for (const path of outsideCreations) if (existsSync(path)) escapes.push(`${path} was created outside the workspace`);
    for (const path of outsideSentinels) if (!existsSync(path) || readFileSync(path, "utf8") !== "OUT") escapes.push(`${path} outside the workspace was changed`);
    const summary = Object.fromEntries([...outcomes].sort());
    console.log(`symlink race: ${flips} flips in ${RACE_MS} ms, ${sequence} requests, outcomes ${JSON.stringify(summary)}`);
    expect(escapes).toEqual([]);
    // Both sides of the race happened: requests got through the directory and were refused at the symlink.
    expect(summary["read:ok"]).toBeGreaterThan(0);
    expect(summary["read:path_outside_workspace"]).toBeGreaterThan(0);
    expect(flips).toBeGreaterThan(1000);
    rmSync(workspace, { recursive: true, force: true });
  },
  30_000,
);
