"""A real HTTP endpoint on 127.0.0.1 for tests of outgoing calls (webhooks): the outside world's
receiver is the one part we stand in for, so it is a real server, not a mock."""
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer


class Receiver:
    """A pipeline's endpoint on 127.0.0.1: answers the queued status codes in turn, records requests."""

    def __init__(self, statuses, *, tls=None):
        """`tls`: (certificate file, key file) to answer HTTPS instead of HTTP."""
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                receiver.requests.append({"headers": dict(self.headers), "body": self.rfile.read(length)})
                code = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(code)
                if 300 <= code < 400:  # a redirect to somewhere nothing listens
                    self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
