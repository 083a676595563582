import http.server
import os

import numpy as np


def answer():
    a = np.array([[4.0, 1.0], [2.0, 3.0]])
    # The solve and the eigenvalues go through LAPACK, the dot product
    # through BLAS: the shared libraries numpy loads at import and call.
    x = np.linalg.solve(a, np.array([1.0, 2.0]))
    eig = sorted(np.linalg.eigvals(a).real.round(6).tolist())
    return f"numpy {np.__version__.split('.')[0]}: solve={x.round(6).tolist()} eig={eig} dot={float(a[0] @ a[1])}\n"


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = answer().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
