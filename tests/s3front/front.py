#!/usr/bin/python3
"""A checking, fault-injecting front for the S3 tests (docs/hardening.md).

Sits between `pipeline` and s3rver on 127.0.0.1. For every request it recomputes the AWS Signature V4 with
botocore (Debian's python3-botocore: AWS's own signer) from the headers the client signed, and answers 403
SignatureDoesNotMatch (InvalidAccessKeyId for an unknown key) when it differs, as S3 does; the payload hash
is checked against the body too. A request that passes is forwarded to s3rver unchanged and its answer is
relayed.

With --fault-rate (or per-kind rates in --faults) it also misbehaves like a busy S3 at that rate per kind: 503 SlowDown, 500 InternalError,
a connection reset in the middle of an upload, and a lost reply to CompleteMultipartUpload (the upload
completes, the client hears nothing; later requests on that upload get 404 NoSuchUpload, as on AWS). The
nth request that could suffer a kind of fault does when a hash of (seed, kind, n) falls under the rate, so
a seed gives the same faults in every run although object keys hold run ids.

Run with Debian's python3 (the shebang), where install-deps.sh puts botocore:
    front.py --upstream http://127.0.0.1:PORT --port-file FILE [--fault-rate 0.03 --seed 7] [--log FILE]
"""

import argparse
import hashlib
import http.client
import http.server
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
from collections import Counter
from datetime import datetime, timezone

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

# Headers that belong to one connection, not to the request or answer (RFC 9110 §7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection",
              "expect"}
FAULT_KINDS = ("slowdown", "error500", "reset", "lose_complete")


def s3_error(code, message):
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f'<RequestId>front</RequestId></Error>').encode()


class Front(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, options):
        super().__init__(("127.0.0.1", options.port), Handler)
        self.options = options
        self.upstream = urllib.parse.urlsplit(options.upstream)
        self.lock = threading.Lock()
        self.seen = Counter()
        self.completed_uploads = set()
        self.stats = Counter()
        self.log_file = open(options.log, "a", buffering=1) if options.log else None

    def note(self, what, handler):
        with self.lock:
            self.stats[what] += 1
        if self.log_file:
            self.log_file.write(json.dumps({"event": what, "method": handler.command, "path": handler.path}) + "\n")

    def fault(self, kind):
        """True when the request at hand, the nth that could suffer `kind`, should: a hash of the seed, the
        kind and n, so that a seed gives the same faults in every run (keys hold run ids that change)."""
        rate = self.options.faults.get(kind, 0.0)
        if rate <= 0:
            return False
        with self.lock:
            self.seen[kind] += 1
            nth = self.seen[kind]
        digest = hashlib.sha256(f"{self.options.seed}|{kind}|{nth}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < rate

    def handle_error(self, request, client_address):
        # Resets and clients that went away are part of the job, not worth a traceback.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Front

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    def do_GET(self):
        try:
            self.handle_s3()
        except OSError:
            raise
        except Exception as error:  # a bug of the front: fail the request loudly instead of retrying it
            import traceback
            traceback.print_exc()
            self.close_connection = True
            self.error(400, "FrontError", f"the test front failed: {type(error).__name__}")

    do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

    # --- reading and answering -------------------------------------------------------------------------

    def read_body(self, limit=None):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length if limit is None else min(limit, length))

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if not any(name.lower() == "content-length" for name, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, status, code, message):
        self.answer(status, s3_error(code, message), [("Content-Type", "application/xml")])

    def reset(self):
        """Closes the connection with a TCP reset (SO_LINGER 0), as a crashed server or a middlebox would."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    # --- the signature ----------------------------------------------------------------------------------

    def signature_problem(self, body):
        """None when the request is signed with our credentials, else (status, code, message)."""
        options = self.server.options
        authorization = self.headers.get("authorization", "")
        if not authorization.startswith("AWS4-HMAC-SHA256 "):
            return 403, "AccessDenied", "Anonymous requests are not allowed"
        fields = dict(part.strip().split("=", 1) for part in authorization[len("AWS4-HMAC-SHA256 "):].split(",")
                      if "=" in part)
        credential = fields.get("Credential", "").split("/")
        if len(credential) != 5 or credential[4] != "aws4_request":
            return 400, "AuthorizationHeaderMalformed", "The Credential is malformed"
        access_key, day, region, service, _ = credential
        if access_key != options.access_key:
            return 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
        if region != options.region or service != "s3":
            return 400, "AuthorizationHeaderMalformed", f"the region '{region}' is wrong; expecting '{options.region}'"
        timestamp = self.headers.get("x-amz-date", "")
        try:
            signed_at = datetime.strptime(timestamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            return 403, "AccessDenied", "x-amz-date is missing or malformed"
        if abs(time.time() - signed_at.timestamp()) > 15 * 60 or not timestamp.startswith(day):
            return 403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large."
        payload_hash = self.headers.get("x-amz-content-sha256", "")
        if payload_hash != "UNSIGNED-PAYLOAD" and payload_hash != hashlib.sha256(body).hexdigest():
            return 400, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."
        # Exactly the headers the client says it signed, as it sent them.
        signed = fields.get("SignedHeaders", "").split(";")
        if "host" not in signed:
            return 403, "AccessDenied", "the Host header must be signed"
        headers = {name: self.headers.get(name, "") for name in signed}
        request = AWSRequest(method=self.command, url=f"http://{self.headers.get('host', '')}{self.path}",
                             headers=headers, data=body)
        request.context["timestamp"] = timestamp
        signer = S3SigV4Auth(Credentials(options.access_key, options.secret_key), "s3", options.region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if signer.signed_headers(signer.headers_to_sign(request)) != ";".join(signed) or \
                expected != fields.get("Signature", ""):
            return 403, "SignatureDoesNotMatch", ("The request signature we calculated does not match the "
                                                  "signature you provided. Check your key and signing method.")
        return None

    # --- one request ------------------------------------------------------------------------------------

    def handle_s3(self):
        server = self.server
        target = self.path
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query, keep_blank_values=True)
        upload_id = query.get("uploadId", [None])[0]
        has_body = int(self.headers.get("content-length") or 0) > 0

        # A reset while the client is still sending: read part of the body, then drop the connection.
        if has_body and self.command == "PUT" and server.fault("reset"):
            self.read_body(limit=int(self.headers.get("content-length")) // 2)
            server.note("fault_reset", self)
            self.reset()
            return
        body = self.read_body()
        problem = self.signature_problem(body)
        if problem:
            server.note("refused_" + problem[1], self)
            self.error(*problem)
            return
        server.note("signed_ok", self)
        if server.fault("slowdown"):
            server.note("fault_slowdown", self)
            self.error(503, "SlowDown", "Please reduce your request rate.")
            return
        if server.fault("error500"):
            server.note("fault_error500", self)
            self.error(500, "InternalError", "We encountered an internal error. Please try again.")
            return
        # AWS forgets an upload once it is completed or aborted; s3rver would answer 500 instead.
        if upload_id is not None:
            with server.lock:
                done = upload_id in server.completed_uploads
            if done:
                server.note("no_such_upload", self)
                self.error(404, "NoSuchUpload", "The specified upload does not exist.")
                return
        status, headers, answer = self.forward(body)
        completing = self.command == "POST" and upload_id is not None
        if upload_id is not None and (completing or self.command == "DELETE") and status < 300:
            with server.lock:
                server.completed_uploads.add(upload_id)
        if completing and status < 300 and server.fault("lose_complete"):
            server.note("fault_lose_complete", self)
            self.reset()
            return
        self.answer(status, answer, headers)

    def forward(self, body):
        upstream = self.server.upstream
        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
        try:
            # The Host header stays the one the client signed.
            connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            answer = response.read()
            headers = [(name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP]
            if self.command != "HEAD":
                headers = [(n, v) for n, v in headers if n.lower() != "content-length"]
            return response.status, headers, answer
        finally:
            connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True, help="s3rver's URL, http://127.0.0.1:PORT")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: the kernel picks)")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--access-key", default="S3RVER")
    parser.add_argument("--secret-key-env", default="S3_FRONT_SECRET",
                        help="variable holding the secret (default S3RVER when unset)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="chance of each fault kind per request")
    parser.add_argument("--faults", default=",".join(FAULT_KINDS),
                        help="kinds to inject, each optionally with its own rate (reset=0.1): " + ", ".join(FAULT_KINDS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", help="append one JSON line per request event (no secrets)")
    parser.add_argument("--stats-file", help="write counts of events as JSON here at exit")
    options = parser.parse_args()
    options.secret_key = os.environ.get(options.secret_key_env, "S3RVER")
    faults = {}
    for item in filter(None, options.faults.split(",")):
        kind, _, rate = item.partition("=")
        if kind not in FAULT_KINDS:
            parser.error(f"unknown fault kind '{kind}' (known: {', '.join(FAULT_KINDS)})")
        faults[kind] = float(rate) if rate else options.fault_rate
    options.faults = faults

    server = Front(options)
    if options.port_file:
        temporary = options.port_file + ".tmp"
        with open(temporary, "w") as out:
            out.write(f"{server.server_address[1]}\n")
        os.replace(temporary, options.port_file)

    import signal

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        if options.stats_file:
            with open(options.stats_file, "w") as out:
                json.dump(dict(server.stats), out)


if __name__ == "__main__":
    main()
