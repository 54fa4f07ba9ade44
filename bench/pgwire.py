"""A PostgreSQL wire proxy that counts round trips and records the SQL a client sends (bench and tests).

Round trips are counted as the server's ReadyForQuery messages: PostgreSQL sends exactly one per simple query
('Q') and per Sync of the extended protocol, i.e. each time the client has to wait for the server before going
on. The SQL is taken from simple queries and Parse messages (an asyncpg statement already prepared on the
connection is only bound and executed: it is listed as `<execute name>`). Nothing is changed in transit.

    proxy = WireCounter("127.0.0.1", 5432); await proxy.start()   # then connect to 127.0.0.1:proxy.port
    proxy.reset(); ...; proxy.round_trips, proxy.log
"""
from __future__ import annotations

import asyncio
import struct

SSL_REQUEST, GSS_REQUEST = 80877103, 80877104


class WireCounter:
    def __init__(self, host: str, port: int):
        self.host, self.port_upstream = host, port
        self.port = 0
        self.round_trips = 0
        self.log: list[str] = []  # what each client message asked, in order ("Q …", "P …", "<execute …>")
        self._server: asyncio.AbstractServer | None = None
        self._names: dict[str, str] = {}  # prepared statement name → SQL (Parse seen earlier on any connection)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    def reset(self) -> None:
        self.round_trips = 0
        self.log.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port_upstream)
        try:
            typed = asyncio.Event()  # the startup is through: from here on both sides send typed messages
            await asyncio.gather(self._client(reader, up_writer, up_reader, writer, typed),
                                 self._upstream(up_reader, writer, typed))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            up_writer.close()

    async def _client(self, reader, up_writer, up_reader, writer, typed: asyncio.Event) -> None:
        while True:  # untyped startup packets: SSL / GSS requests (answered with one byte), then the startup
            head = await reader.readexactly(8)
            length, code = struct.unpack("!ii", head)
            body = await reader.readexactly(length - 8)
            up_writer.write(head + body)
            await up_writer.drain()
            if code not in (SSL_REQUEST, GSS_REQUEST):
                break
            writer.write(await up_reader.readexactly(1))  # 'N': no encryption, go on in the clear
            await writer.drain()
        typed.set()
        while True:
            kind = await reader.readexactly(1)
            length = struct.unpack("!i", await reader.readexactly(4))[0]
            body = await reader.readexactly(length - 4)
            self._note(kind, body)
            up_writer.write(kind + struct.pack("!i", length) + body)
            await up_writer.drain()

    async def _upstream(self, up_reader, writer, typed: asyncio.Event) -> None:
        await typed.wait()  # until then _client relays the server's one-byte answers to SSL / GSS requests
        while True:
            kind = await up_reader.readexactly(1)
            length = struct.unpack("!i", await up_reader.readexactly(4))[0]
            body = await up_reader.readexactly(length - 4)
            if kind == b"Z":
                self.round_trips += 1
            writer.write(kind + struct.pack("!i", length) + body)
            await writer.drain()

    def _note(self, kind: bytes, body: bytes) -> None:
        if kind == b"Q":
            self.log.append("Q " + body.rstrip(b"\0").decode())
        elif kind == b"P":
            name, rest = body.split(b"\0", 1)
            sql = rest.split(b"\0", 1)[0].decode()
            self._names[name.decode()] = sql
            self.log.append("P " + sql)
        elif kind == b"B":
            statement = body.split(b"\0", 2)[1].decode()
            self.log.append("B " + self._names.get(statement, statement))
