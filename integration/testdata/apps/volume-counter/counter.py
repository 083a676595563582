import http.server
import os
import tempfile

STATE = os.path.join(os.environ["STATE_DIR"], "count")


def bump():
    with open(STATE) as f:
        n = int(f.read().strip()) + 1
    # Write a new file and rename it over the old one, so a crash never
    # leaves half a number behind.
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(STATE))
    with os.fdopen(fd, "w") as f:
        f.write(f"{n}\n")
    os.replace(tmp, STATE)
    return n


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            body = f"count is {bump()}\n".encode()
            self.send_response(200)
        except OSError as e:
            body = f"cannot write state: {e.strerror}\n".encode()
            self.send_response(500)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
