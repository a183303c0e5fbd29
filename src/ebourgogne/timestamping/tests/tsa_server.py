"""A real RFC 3161 server over HTTP for tests: the embedded authority's signer behind http.server.

It answers `application/timestamp-query` POSTs with `application/timestamp-reply`, like a production TSA,
so that the external-authority path (pyHanko's HTTPTimeStamper) runs against a real socket.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from asn1crypto import tsp

from ebourgogne.timestamping.authority import EmbeddedAuthority, _PlatformTimeStamper


class TsaServer:
    def __init__(self, folder: Path, *, user: str = "", password: str = "") -> None:
        self.authority = EmbeddedAuthority(folder)
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_POST(self) -> None:  # noqa: N802
                import base64

                if user:
                    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
                    if self.headers.get("Authorization") != expected:
                        self.send_response(401)
                        self.end_headers()
                        return
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = tsp.TimeStampReq.load(body)
                stamper = _PlatformTimeStamper(tsa_cert=server.authority.tsa_certificate, tsa_key=server.authority.key)
                answer = stamper.request_tsa_response(request).dump()
                server.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/tsr"
        self.ca_file = folder / "root.pem"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> TsaServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port_url() -> str:
    """An address where nothing listens (the port was just released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/tsr"
