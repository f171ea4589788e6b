"""Unit tests of the HTTP layer with an in-memory counter (no Redis needed).

Run from examples/flask-redis: python3 -m unittest discover -s tests
"""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import app as flaskapp  # noqa: E402


class FakeCounter:
    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1
        return self.n


class AppTest(unittest.TestCase):
    def client(self, config):
        return flaskapp.create_app(config, FakeCounter()).test_client()

    def test_index_counts_hits(self):
        c = self.client({"show_message": "Hello from devloop"})
        for want in (1, 2):
            got = c.get("/").get_data(as_text=True)
            self.assertEqual(got, f"Hello from devloop! I have been seen {want} times.\n")

    def test_health(self):
        resp = self.client(dict(flaskapp.DEFAULTS)).get("/health")
        self.assertEqual(resp.status_code, 200)
        self.assertEqual(resp.get_data(as_text=True), "i am fine")

    def test_load_config(self):
        cases = [
            ("missing file uses defaults", None, "Hello World", "localhost"),
            ("file overrides defaults", {"show_message": "Hi", "redis_host": "redis"}, "Hi", "redis"),
            ("partial file keeps other defaults", {"redis_port": 6380}, "Hello World", "localhost"),
        ]
        for name, content, want_msg, want_host in cases:
            with self.subTest(name), tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, "config.json")
                if content is not None:
                    with open(path, "w", encoding="utf-8") as f:
                        json.dump(content, f)
                cfg = flaskapp.load_config(path)
                self.assertEqual(cfg["show_message"], want_msg)
                self.assertEqual(cfg["redis_host"], want_host)

    def test_shipped_config_parses(self):
        cfg = flaskapp.load_config(os.path.join(flaskapp.HERE, "config", "config.json"))
        self.assertEqual(cfg["redis_port"], 6379)


if __name__ == "__main__":
    unittest.main()
