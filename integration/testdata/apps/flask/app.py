import os

import flask

app = flask.Flask(__name__)


@app.route("/")
def index():
    return f"hello from flask {flask.__version__.split('.')[0]}\n", 200, {"Content-Type": "text/plain"}


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
