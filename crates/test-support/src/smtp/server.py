"""A real SMTP server for Herald's tests: aiosmtpd (Debian's python3-aiosmtpd)
on 127.0.0.1, port chosen by the OS, configured by one JSON argument:

  tls               "none", "starttls" (offered after EHLO) or "implicit" (TLS from the first byte)
  cert, key         PEM files for TLS
  require_starttls  refuse everything but EHLO/STARTTLS/QUIT before TLS
  users             {"user": "password"}: AUTH PLAIN and LOGIN offered; null: no AUTH
  auth_require_tls  AUTH only after TLS (aiosmtpd's default)
  auth_exclude      mechanisms not to offer, e.g. ["PLAIN"]
  replies           {"MAIL"|"RCPT"|"DATA": [reply, ...]}: the next such command gets the next
                    reply ("451 4.3.0 busy"; a 2xx reply accepts as usual; "DROP" closes the
                    connection; "SLEEP <s>" waits and then accepts); once used up,
                    commands are accepted
  record            file that gets one JSON line per accepted message
  auth_record       file that gets one JSON line per AUTH command received, accepted or not

Prints "LISTENING <port>" once it accepts connections; runs until killed.
"""

import asyncio
import json
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, config):
        self.replies = {k.upper(): list(v) for k, v in (config.get("replies") or {}).items()}
        self.record = config["record"]

    async def scripted(self, server, command):
        queue = self.replies.get(command)
        if not queue:
            return None
        reply = queue.pop(0)
        if reply.startswith("2"):
            return None  # accepted as usual
        if reply == "DROP":
            server.transport.close()
            return "421 4.4.2 connection dropped by the test"
        if reply.startswith("SLEEP "):
            await asyncio.sleep(float(reply.split()[1]))
            return None
        return reply

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = await self.scripted(server, "MAIL")
        if reply:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = await self.scripted(server, "RCPT")
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = await self.scripted(server, "DATA")
        if reply:
            return reply
        login = getattr(session, "auth_data", None)
        user = login.login.decode() if isinstance(login, LoginPassword) else None
        entry = {
            "mail_from": envelope.mail_from,
            "rcpt_to": envelope.rcpt_tos,
            "data": envelope.original_content.decode("utf-8", "replace"),
            "auth_user": user,
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "peer_port": session.peer[1],
        }
        with open(self.record, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")
        return "250 2.0.0 queued as test"


class RecordingSMTP(SMTP):
    """Notes every AUTH command before aiosmtpd handles it, so a test can
    tell that a client never tried to authenticate."""

    def __init__(self, handler, auth_record, **kwargs):
        super().__init__(handler, **kwargs)
        self.auth_record = auth_record

    async def smtp_AUTH(self, arg):
        entry = {
            "mechanism": (arg or "").split(" ")[0].upper(),
            "tls": self.transport.get_extra_info("ssl_object") is not None,
        }
        with open(self.auth_record, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")
        return await super().smtp_AUTH(arg)


def authenticator(users):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and users.get(auth_data.login.decode()) == auth_data.password.decode()
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return check


async def main(config):
    tls = config.get("tls", "none")
    context = None
    if tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(config["cert"], config["key"])
    users = config.get("users")
    handler = Recorder(config)

    def factory():
        kwargs = dict(
            hostname="mail.test",
            enable_SMTPUTF8=True,
            ident="herald test SMTP",
        )
        if tls == "starttls":
            kwargs["tls_context"] = context
            kwargs["require_starttls"] = bool(config.get("require_starttls"))
        if users is not None:
            kwargs["authenticator"] = authenticator(users)
            # Under implicit TLS aiosmtpd does not know the session is
            # encrypted: there, the whole connection is.
            require_tls = bool(config.get("auth_require_tls", True)) and tls != "implicit"
            kwargs["auth_require_tls"] = require_tls
            kwargs["auth_exclude_mechanism"] = config.get("auth_exclude") or []
        else:
            kwargs["auth_exclude_mechanism"] = ["LOGIN", "PLAIN"]
        return RecordingSMTP(handler, config["auth_record"], **kwargs)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        factory, "127.0.0.1", 0, ssl=context if tls == "implicit" else None
    )
    port = server.sockets[0].getsockname()[1]
    print(f"LISTENING {port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
