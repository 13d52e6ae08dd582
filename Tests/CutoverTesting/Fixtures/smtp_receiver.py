"""A real SMTP server (aiosmtpd) on 127.0.0.1 for alert e-mail tests.

usage: smtp_receiver.py PORT OUTDIR CERT KEY USER PASSWORD

STARTTLS is required before anything else and AUTH (as USER/PASSWORD) before mail. Each message
accepted is saved as OUTDIR/NNNN.json: mail_from, rcpt_tos, tls (whether the session was encrypted),
user (who signed in) and content (the message text)."""
import json, os, ssl, sys, threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, outdir, cert, key, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
lock = threading.Lock()


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        with lock:
            n = len(os.listdir(outdir))
            login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
            with open(os.path.join(outdir, "%04d.json" % n), "w") as f:
                json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "tls": session.ssl is not None,
                           "user": login, "content": envelope.content.decode("utf-8", "replace")}, f)
        return "250 Message accepted"


controller = Controller(Handler(), hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                        authenticator=authenticator, auth_required=True, auth_require_tls=True)
controller.start()
print("ready", flush=True)
threading.Event().wait()
