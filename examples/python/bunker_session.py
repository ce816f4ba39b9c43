#!/usr/bin/env python3
"""A small bunker client in Python: what an agent's "run shell commands, sandboxed" tool needs.

One socket, many commands (also at once), output as it comes, stdin, a persistent shell, and
errors as exceptions. Needs the `websockets` package (Debian: apt-get install python3-websockets;
elsewhere: pip install websockets); tested with 10.4 and written to the API that later versions
keep. The protocol it speaks is docs/PROTOCOL.md.

    BUNKER_TOKEN=... python3 bunker_session.py ws://127.0.0.1:7681/ws
"""

import asyncio
import base64
import itertools
import json
import os
import sys
from dataclasses import dataclass, field

import websockets


# Raw stdin bytes per message: base64 makes 256 KiB of them 342 KiB, well under the server's
# frame limit (1 MiB unless --max-frame-bytes says otherwise; hello's maxFrameBytes tells).
STDIN_CHUNK_BYTES = 256 * 1024
# What run() sets in the exec message itself: given as options they would break it.
MANAGED_FIELDS = {"type", "id", "argv", "cmd", "stdin", "encoding", "ackWindowBytes"}


class BunkerError(Exception):
    """An `error` reply: `code` is stable (match on it), the message is for people."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class Result:
    code: int | None  # None when a signal ended the command
    signal: str | None
    reason: str  # "exited", "timeout", "output_limit", "killed", ...
    stdout: str
    stderr: str
    cwd: str | None = None  # persistent shells: the directory after the command


@dataclass
class _Exec:
    on_output: object  # callable(stream, text) or None
    out: dict = field(default_factory=lambda: {"stdout": [], "stderr": []})
    done: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class BunkerSession:
    """A session: a workspace on the server, and the commands run in it."""

    def __init__(self, socket, hello):
        self.socket = socket
        self.hello = hello  # the server's hello: session id, workspace, sandbox, limits
        self._execs = {}
        self._ids = itertools.count(1)
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, url, token):
        # The token as a subprotocol beside bunker.v1: the same call in every websockets version
        # (an Authorization header works too, but the keyword for it changed in websockets 14).
        socket = await websockets.connect(url, subprotocols=["bunker.v1", f"bunker.token.{token}"], max_size=None)
        hello = json.loads(await socket.recv())
        if hello.get("type") != "hello":
            raise BunkerError(hello.get("code", "unexpected"), hello.get("message", str(hello)))
        return cls(socket, hello)

    async def run(self, cmd, *, stdin=None, on_output=None, **options):
        """Runs `cmd` (a shell line, or a list for argv) and waits for its exit.

        `stdin`: text or bytes written to the command, then end of file; up to 8 MiB (the most the
        server holds for a command that has not read it yet; for more, write a file first).
        `on_output(stream, text)` sees the output as it comes; if it raises, this run raises that
        (the command goes on: an exec with a timeoutMs ends on its own).
        Other options go into the exec message as they are: `cwd`, `env`, `timeoutMs`,
        `maxOutputBytes`, `shell` (a persistent shell's name), `network`, `rlimits`, `pty`.
        """
        if MANAGED_FIELDS & options.keys():
            raise TypeError(f"run() sets {sorted(MANAGED_FIELDS & options.keys())} itself")
        exec_id = f"py-{next(self._ids)}"
        self._execs[exec_id] = state = _Exec(on_output)
        command = {"argv": cmd} if isinstance(cmd, list) else {"cmd": cmd}
        try:
            await self._send({"type": "exec", "id": exec_id, **command, "stdin": stdin is not None, **options})
            if stdin is not None:
                data = stdin.encode() if isinstance(stdin, str) else bytes(stdin)
                pieces = [data[at : at + STDIN_CHUNK_BYTES] for at in range(0, len(data), STDIN_CHUNK_BYTES)] or [b""]
                for index, piece in enumerate(pieces):
                    encoded = base64.b64encode(piece).decode()
                    await self._send({"type": "stdin", "id": exec_id, "data": encoded, "encoding": "base64", "eof": index == len(pieces) - 1})
            ended = await state.done
        finally:
            del self._execs[exec_id]
        out = {stream: "".join(parts) for stream, parts in state.out.items()}
        return Result(ended["code"], ended["signal"], ended["reason"], out["stdout"], out["stderr"], ended.get("cwd"))

    async def close(self):
        """Ends the session: its commands are killed and its workspace goes (see PROTOCOL.md)."""
        await self._send({"type": "close"})
        await self.socket.wait_closed()
        self._reader.cancel()

    async def _send(self, message):
        try:
            # ensure_ascii=False: non-ASCII text goes as UTF-8, not as six-byte \u escapes.
            await self.socket.send(json.dumps(message, ensure_ascii=False))
        except websockets.ConnectionClosed as error:
            raise BunkerError("connection_closed", f"the socket is closed ({error})") from error

    async def _read(self):
        try:
            async for text in self.socket:
                if isinstance(text, bytes):
                    continue  # binary frames come only to execs with "encoding": "binary", which run() never asks for
                message = json.loads(text)
                state = self._execs.get(message.get("id"))
                if state is None:
                    continue
                kind = message["type"]
                if kind == "output":
                    state.out[message["stream"]].append(message["data"])
                    if state.on_output and not state.done.done():
                        try:
                            state.on_output(message["stream"], message["data"])
                        except Exception as error:  # the caller's callback: its run fails, the others go on
                            state.done.set_exception(error)
                elif kind == "exit" and not state.done.done():
                    state.done.set_result(message)
                elif kind == "error" and not state.done.done():
                    state.done.set_exception(BunkerError(message["code"], message["message"]))
            failure = BunkerError("connection_closed", "the socket closed before the exit")
        except websockets.ConnectionClosed:
            failure = BunkerError("connection_closed", "the socket closed before the exit")
        except Exception as error:  # a bug of this reader must not leave every run waiting forever
            failure = error
        # Reading has ended: whatever still waits fails rather than hangs.
        for state in self._execs.values():
            if not state.done.done():
                state.done.set_exception(failure)


async def main(url, token):
    session = await BunkerSession.connect(url, token)
    print("session", session.hello["session"], "sandbox", session.hello["sandbox"]["backend"])

    result = await session.run("echo hello from $(id -u); ls /nonexistent")
    print(result.code, repr(result.stdout), repr(result.stderr))

    result = await session.run(["wc", "-l"], stdin="one\ntwo\nthree\n")
    print("lines:", result.stdout.strip())

    # Several at once over the one socket.
    results = await asyncio.gather(*(session.run(f"sleep 0.{i}; echo {i}") for i in range(1, 4)))
    print("gathered:", [r.stdout.strip() for r in results])

    # A persistent shell keeps cd and variables between commands.
    await session.run("mkdir -p src && cd src && export GREETING=hi", shell="main")
    result = await session.run('echo "$GREETING from $(basename $PWD)"', shell="main")
    print("shell:", result.stdout.strip(), "cwd ends with src:", result.cwd.endswith("/src"))

    result = await session.run("sleep 5", timeoutMs=300)
    print("timeout:", result.reason, result.signal)

    try:
        await session.run("true", cwd="../outside")
    except BunkerError as error:
        print("refused:", error.code)

    # Output as it comes, not when the command ends.
    streamed = []
    await session.run("for i in 1 2 3; do echo tick $i; sleep 0.2; done", on_output=lambda stream, text: streamed.append(text))
    print("streamed in pieces:", len(streamed) > 1, "".join(streamed).split())

    await session.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "ws://127.0.0.1:7681/ws", os.environ["BUNKER_TOKEN"]))
