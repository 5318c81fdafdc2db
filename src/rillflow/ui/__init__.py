"""``rillflow ui``: a local web inspector for durable runs (standard library only).

    rillflow ui myapp.flows:flow --db runs.db      # then open http://127.0.0.1:8765/

or from Python::

    from rillflow.ui import UIServer

    server = UIServer("runs.db", flow=flow, port=0).start()
    print(server.url)
    ...
    server.stop()

See docs/ui.md.
"""

from .server import UIServer

__all__ = ["UIServer"]
