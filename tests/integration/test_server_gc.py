"""The server settles the garbage collector once the app has started (``fieldline.server.Server``):
what the app made to last is frozen out of collections and the young generation is collected less
often. Run in a child process: freezing is process-wide and would outlive this test."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from fieldline import server

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import asyncio, gc, json
    from fieldline import server
    from tests.support.servers import free_port

    started = []

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await receive()
            started.append((gc.get_freeze_count(), gc.get_threshold()))  # as the app starts: not yet
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})

    async def main():
        config = server.config(app, port=free_port(), graceful_s=1)
        srv = server.Server(config)
        task = asyncio.create_task(srv.serve())
        while not srv.started:
            await asyncio.sleep(0.01)
        after = (gc.get_freeze_count(), gc.get_threshold())
        srv.should_exit = True
        await task
        print(json.dumps({"during_startup": started[0], "after": after}))

    asyncio.run(main())
""")


def test_the_collector_is_settled_once_the_app_has_started() -> None:
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    frozen_before, threshold_before = seen["during_startup"]
    frozen_after, threshold_after = seen["after"]
    assert frozen_before == 0 and tuple(threshold_before) != server.GC_THRESHOLDS
    assert frozen_after > 10_000  # the modules and objects of a started app
    assert tuple(threshold_after) == server.GC_THRESHOLDS
