"""flask-redis: the devloop example app.

GET /        -> "<show_message>! I have been seen N times.\n" (N counted in Redis)
GET /health  -> "i am fine" (no Redis round trip: liveness must not depend on Redis)

Configuration comes from config/config.json next to this file (in the cluster a
ConfigMap is mounted over /app/config); CONFIG_PATH overrides the location.

Only what Debian bookworm packages provide is used (python3-flask 2.2,
python3-redis 4.3): the example image is built offline, without pip.
"""

import json
import os
import signal
import sys
import time

from flask import Flask, Response

DEFAULTS = {
    "redis_host": "localhost",
    "redis_port": 6379,
    "redis_db": 0,
    "redis_password": None,
    "show_message": "Hello World",
}

HERE = os.path.dirname(os.path.abspath(__file__))


def load_config(path=None):
    """Return DEFAULTS overlaid with the JSON file at path (missing file: defaults)."""
    path = path or os.environ.get("CONFIG_PATH") or os.path.join(HERE, "config", "config.json")
    config = dict(DEFAULTS)
    try:
        with open(path, encoding="utf-8") as f:
            config.update(json.load(f))
    except FileNotFoundError:
        print(f"config {path} not found, using defaults", file=sys.stderr, flush=True)
    return config


def redis_counter(config, retries=5, delay=0.5):
    """Return a function that increments and returns the hit counter in Redis.

    Redis may still be starting when the first request arrives, so connection
    errors are retried a few times before the request fails.
    """
    import redis  # imported here so tests of the HTTP layer need no Redis client

    client = redis.Redis(
        host=config["redis_host"],
        port=int(config["redis_port"]),
        db=int(config["redis_db"]),
        password=config["redis_password"] or None,
        socket_connect_timeout=2,
        socket_timeout=2,
    )

    def incr():
        for attempt in range(retries):
            try:
                return client.incr("hits")
            except redis.exceptions.ConnectionError:
                if attempt == retries - 1:
                    raise
                time.sleep(delay)
        raise AssertionError("unreachable")

    return incr


def create_app(config, counter):
    """Build the Flask app; counter() returns the new hit count."""
    app = Flask(__name__)

    @app.route("/")
    def hello():
        count = counter()
        return Response(
            f"{config['show_message']}! I have been seen {count} times.\n",
            mimetype="text/plain",
        )

    @app.route("/health")
    def health():
        return Response("i am fine", mimetype="text/plain")

    return app


def _exit_on_sigterm(signum, frame):
    # Python as PID 1 gets no default SIGTERM action: without this handler every
    # rollout waits the whole terminationGracePeriodSeconds for old pods.
    print("SIGTERM received, exiting", file=sys.stderr, flush=True)
    sys.exit(0)


def main():
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    config = load_config()
    app = create_app(config, redis_counter(config))
    port = int(os.environ.get("PORT", "8080"))
    app.run(host="0.0.0.0", port=port, threaded=True)


if __name__ == "__main__":
    main()
