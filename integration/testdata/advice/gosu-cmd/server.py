import http.server
import os
import pwd


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        user = pwd.getpwuid(os.geteuid()).pw_name
        body = f"hello from a user-switching CMD as {user}, home={os.path.expanduser('~' + user)}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
