import http.server
import os
import pwd

COUNTER = "/data/cache/visits"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        # Writing the data directory is what the entrypoint prepared it for.
        visits = int(open(COUNTER).read()) + 1 if os.path.exists(COUNTER) else 1
        with open(COUNTER, "w") as f:
            f.write(str(visits))
        user = pwd.getpwuid(os.geteuid()).pw_name
        body = f"hello from gosu python as {user}, visits={visits}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
