"""A real SMTP server on loopback for the notification tests.

It offers STARTTLS when given a certificate and then requires it, requires
AUTH, and writes each message it accepts to its own file in the mail
folder. Options make it refuse the first few DATA commands with a 421 or
every recipient with a 550, so the tests can see retries and failures.
"""

import argparse
import logging
import os
import ssl
import sys
import uuid
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, folder, refuse_data, reject_recipients):
        self.folder = folder
        self.refuse_data = refuse_data
        self.reject_recipients = reject_recipients

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_data > 0:
            self.refuse_data -= 1
            return "421 4.3.2 Try again later"
        # Record how the session was secured, for the tests to check.
        secured = "yes" if session.ssl is not None else "no"
        user = str(session.auth_data) if session.authenticated else "none"
        name = os.path.join(self.folder, f"{uuid.uuid4().hex}.eml")
        with open(name + ".tmp", "wb") as handle:
            handle.write(f"X-Test-TLS: {secured}\r\nX-Test-Auth: {user}\r\n".encode())
            handle.write(f"X-Test-Rcpt: {','.join(envelope.rcpt_tos)}\r\n".encode())
            handle.write(envelope.original_content)
        os.rename(name + ".tmp", name)
        return "250 Message accepted"


def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password:
            return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)

    return check


def main():
    # The server without STARTTLS exists to be refused; its warning about
    # AUTH in clear text would only clutter the test output.
    warnings.filterwarnings("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user", default="ist-intake")
    parser.add_argument("--password", default="relay-password")
    parser.add_argument("--refuse-data", type=int, default=0)
    parser.add_argument("--reject-recipients", action="store_true")
    args = parser.parse_args()

    tls_context = None
    if args.cert:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.cert, args.key)
    handler = Handler(args.folder, args.refuse_data, args.reject_recipients)
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=args.port,
        tls_context=tls_context,
        require_starttls=tls_context is not None,
        authenticator=authenticator(args.user, args.password),
        auth_required=True,
        auth_require_tls=tls_context is not None,
    )
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
