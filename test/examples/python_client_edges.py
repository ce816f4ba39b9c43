"""Edges of examples/python/bunker_session.py that its own demo does not walk: big and non-ASCII
stdin, a callback that raises beside a run that must go on, and options run() manages itself.
Prints one line per check; test/examples/python-client.test.ts compares them."""

import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python"))
from bunker_session import BunkerError, BunkerSession  # noqa: E402


async def main(url, token):
    session = await BunkerSession.connect(url, token)

    # More than one frame holds (1 MiB): sent in pieces.
    big = "x" * (3 * 1024 * 1024)
    result = await session.run(["wc", "-c"], stdin=big)
    print("big stdin:", result.stdout.strip())

    # 400 KB of UTF-8 that JSON escapes would have made 1.2 MB.
    result = await session.run(["wc", "-c"], stdin="é" * 200_000)
    print("non-ascii stdin:", result.stdout.strip())


    def boom(stream, text):
        raise ValueError("callback failed")

    failing = session.run("echo one; sleep 0.3; echo two", on_output=boom, timeoutMs=5000)
    other = session.run("sleep 0.5; echo still here")
    outcomes = await asyncio.gather(failing, other, return_exceptions=True)
    print("callback raised:", repr(outcomes[0]), "| other:", outcomes[1].stdout.strip())

    try:
        await session.run("true", id="mine")
    except TypeError as error:
        print("managed option:", error)

    await session.close()
    try:
        await session.run("true")
    except BunkerError as error:
        print("after close:", error.code)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], os.environ["BUNKER_TOKEN"]))
