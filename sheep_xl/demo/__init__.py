"""A local sheepCRM-compatible demo server and its deterministic sample data.

``python -m sheep_xl.demo --port 8765`` runs the server until Ctrl-C (the same as
``sheep-xl demo-server``). The demo key `DEMO_API_KEY` is public: it opens only this server.
"""

from sheep_xl.demo.data import DEMO_BUCKET, demo_events
from sheep_xl.demo.server import DEMO_API_KEY, STATES, DemoServer, serve

__all__ = ["DEMO_API_KEY", "DEMO_BUCKET", "STATES", "DemoServer", "demo_events", "serve"]
