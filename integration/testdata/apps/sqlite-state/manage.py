"""A Django-like manage.py on the standard library: migrate creates the
SQLite database under data/, runserver counts visits in it."""
import http.server
import os
import sqlite3
import sys

DB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "db.sqlite3")


def migrate():
    os.makedirs(os.path.dirname(DB), exist_ok=True)
    with sqlite3.connect(DB) as db:
        db.execute("CREATE TABLE IF NOT EXISTS visit (id INTEGER PRIMARY KEY)")
    print("migrated", DB)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        try:
            with sqlite3.connect(DB) as db:
                db.execute("INSERT INTO visit DEFAULT VALUES")
                (n,) = db.execute("SELECT COUNT(*) FROM visit").fetchone()
            status, body = 200, "hello from sqlite, visits=%d\n" % n
        except sqlite3.Error as e:
            status, body = 500, "database error: %s\n" % e
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(body.encode())


def runserver():
    port = int(os.environ.get("PORT", "8000"))
    http.server.HTTPServer(("0.0.0.0", port), Handler).serve_forever()


if __name__ == "__main__":
    {"migrate": migrate, "runserver": runserver}[sys.argv[1]]()
