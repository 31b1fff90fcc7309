"""The ceiling: a bare asyncio.Protocol on uvloop + httptools answering every
request with one canned response (no routing, no framework). Pipelined requests
are answered in one write. What is left between Squall and this is the framework.
Usage: python limit_app.py PORT (from bench/peers/apps/python_limit.py)
"""

import asyncio
import sys

import httptools
import uvloop

RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 13\r\n\r\nHello, World!"
)


class CannedHTTP(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)
        self.done = 0  # requests completed in the current data_received
        self.closing = False

    def on_message_complete(self):
        self.done += 1
        self.closing = self.closing or not self.parser.should_keep_alive()

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.closing = True
        if self.done:
            self.transport.write(RESPONSE * self.done)
            self.done = 0
        if self.closing:
            self.transport.close()


async def main(port):
    server = await asyncio.get_running_loop().create_server(
        CannedHTTP, "127.0.0.1", port, backlog=1024
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        uvloop.run(main(int(sys.argv[1])))
    except KeyboardInterrupt:
        pass
