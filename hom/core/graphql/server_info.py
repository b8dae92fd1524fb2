"""The root fields that belong to no domain: `serverInfo` and `node`."""

from __future__ import annotations

from importlib.metadata import version

import strawberry

from hom.core.config import Settings
from hom.core.graphql.compiled.mapping import StaticSource, source
from hom.core.graphql.permissions import Public
from hom.core.graphql.relay import Node, resolve_node

VERSION = version("hom")


@strawberry.type(description="What this server is; public, always answers.")
class ServerInfo:
    version: str
    environment: str


def server_info_values(settings: Settings) -> dict[str, str]:
    return {"version": VERSION, "environment": settings.app_env.value}


@strawberry.type
class CoreQuery:
    @strawberry.field(
        permission_classes=[Public],
        description="Version and environment.",
        metadata=source(StaticSource(server_info_values)),
    )
    def server_info(self, info: strawberry.Info) -> ServerInfo:
        return ServerInfo(**server_info_values(info.context.settings))

    @strawberry.field(permission_classes=[Public], description="Any object by its global id.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)
