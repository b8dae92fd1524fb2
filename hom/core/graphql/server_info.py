"""The root fields that belong to no domain: `serverInfo` and `node`."""

from __future__ import annotations

from importlib.metadata import version

import strawberry

from hom.core.graphql.permissions import Public
from hom.core.graphql.relay import Node, resolve_node

VERSION = version("hom")


@strawberry.type(description="What this server is; public, always answers.")
class ServerInfo:
    version: str
    environment: str


@strawberry.type
class CoreQuery:
    @strawberry.field(permission_classes=[Public], description="Version and environment.")
    def server_info(self, info: strawberry.Info) -> ServerInfo:
        return ServerInfo(version=VERSION, environment=info.context.settings.app_env.value)

    @strawberry.field(permission_classes=[Public], description="Any object by its global id.")
    async def node(self, info: strawberry.Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id)
