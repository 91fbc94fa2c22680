"""The peers doing the same job on the same server stack (uvicorn, uvloop, httptools, no
compression): a Django Channels consumer that joins group ``wall`` (RedisChannelLayer), and a
python-socketio ASGI app with ``AsyncRedisManager``; both forward each published message to every
connected client. And the floor: a bare ``websockets`` server on uvloop that forwards each message of
a Redis pub/sub channel with ``websockets.broadcast()`` (no framework, no auth, no state: what one
write per socket costs on this machine).

    python -m bench.hub_peers SYSTEM PORT REDIS_URL
"""

from __future__ import annotations

import sys
from typing import Any


def channels_app(redis_url: str) -> Any:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False, SECRET_KEY="bench", ALLOWED_HOSTS=["*"], INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS={"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                    "CONFIG": {"hosts": [redis_url]}}},
    )
    django.setup()
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.urls import path

    class Wall(AsyncWebsocketConsumer):
        async def connect(self) -> None:
            await self.channel_layer.group_add("wall", self.channel_name)
            await self.accept()

        async def disconnect(self, code: int) -> None:
            await self.channel_layer.group_discard("wall", self.channel_name)

        async def stats_message(self, event: dict[str, Any]) -> None:
            await self.send(text_data=event["text"])

    return ProtocolTypeRouter({"websocket": URLRouter([path("ws", Wall.as_asgi())])})


def socketio_app(redis_url: str) -> Any:
    import socketio

    server = socketio.AsyncServer(async_mode="asgi", client_manager=socketio.AsyncRedisManager(redis_url),
                                  cors_allowed_origins="*")
    return socketio.ASGIApp(server)


async def broadcast_server(port: int, redis_url: str) -> None:
    from redis.asyncio import Redis
    from websockets.asyncio.server import broadcast, serve

    async def hold(ws: Any) -> None:
        await ws.wait_closed()

    async with serve(hold, "127.0.0.1", port, compression=None) as server:
        pubsub = Redis.from_url(redis_url).pubsub()
        await pubsub.subscribe("wall")
        async for message in pubsub.listen():
            if message["type"] == "message":
                broadcast(server.connections, message["data"].decode())


def main() -> None:
    import uvicorn

    system, port, redis_url = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if system == "broadcast":
        import uvloop

        uvloop.run(broadcast_server(port, redis_url))
        return
    app = channels_app(redis_url) if system == "channels" else socketio_app(redis_url)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", ws_per_message_deflate=False,
                access_log=False)


if __name__ == "__main__":
    main()
