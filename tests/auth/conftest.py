"""Auth fixtures: a client side of the authentication conversation, without sockets."""

from __future__ import annotations

from scramp import ScramClient

from sqlgate.pgproto import backend as be
from sqlgate.pgproto import frontend as fe
from sqlgate.pgproto.parser import BackendParser


class FakeClient:
    """Plays a driver's part: answers cleartext and SCRAM requests with ``password``."""

    def __init__(
        self, user: str, password: str, *, channel_binding: bytes | None = None, mechanism: str | None = None
    ):
        self.user = user
        self.password = password
        self.channel_binding = channel_binding
        self.mechanism = mechanism
        self.received: list[be.BackendMessage] = []
        self._pending: bytes | None = None
        self._scram: ScramClient | None = None

    async def send(self, message: bytes) -> None:
        parser = BackendParser()
        parser.feed(message)
        msg = parser.next_message()
        assert msg is not None
        self.received.append(msg)
        if isinstance(msg, be.AuthenticationCleartextPassword):
            self._pending = fe.PasswordMessage(self.password).encode()[5:]
        elif isinstance(msg, be.AuthenticationSASL):
            mechanism = self.mechanism or (
                "SCRAM-SHA-256-PLUS"
                if self.channel_binding and "SCRAM-SHA-256-PLUS" in msg.mechanisms
                else "SCRAM-SHA-256"
            )
            binding = ("tls-server-end-point", self.channel_binding) if mechanism.endswith("PLUS") else None
            self._scram = ScramClient([mechanism], self.user, self.password, channel_binding=binding)
            first = self._scram.get_client_first().encode()
            self._pending = fe.SASLInitialResponse(mechanism, first).encode()[5:]
        elif isinstance(msg, be.AuthenticationSASLContinue):
            assert self._scram is not None
            self._scram.set_server_first(msg.data.decode())
            self._pending = self._scram.get_client_final().encode()
        elif isinstance(msg, be.AuthenticationSASLFinal):
            assert self._scram is not None
            self._scram.set_server_final(msg.data.decode())  # raises if the server signature is wrong

    async def receive(self) -> bytes:
        assert self._pending is not None, "the server asked for nothing"
        data, self._pending = self._pending, None
        return data

    @property
    def methods(self) -> list[str]:
        return [type(m).__name__ for m in self.received]
