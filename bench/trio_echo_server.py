"""A minimal echo server on Trio's serve_tcp, for comparison in
echo_server_bench: every connection gets a task that sends back what it
receives until the client closes.

Usage: python3 trio_echo_server.py
It listens on 127.0.0.1 on a free port, prints "listening on 127.0.0.1:PORT"
as its first line, and serves until it is killed.
"""

import functools
import sys

import trio


async def echo(stream):
    # The generator closes its connections with echoes unread, so some end
    # in a reset: that ends the connection quietly.
    try:
        while True:
            data = await stream.receive_some(512)
            if not data:
                return
            await stream.send_all(data)
    except trio.BrokenResourceError:
        return


async def main():
    async with trio.open_nursery() as nursery:
        serve = functools.partial(trio.serve_tcp, echo, 0, host="127.0.0.1")
        listeners = await nursery.start(serve)
        host, port = listeners[0].socket.getsockname()[:2]
        print(f"listening on {host}:{port}", flush=True)


if __name__ == "__main__":
    try:
        trio.run(main)
    except KeyboardInterrupt:
        sys.exit(0)
