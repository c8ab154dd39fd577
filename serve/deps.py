"""The FastAPI dependency that hands a route the service `create_app` was given."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pipelines.search.service import SearchService


async def get_service(request: Request) -> SearchService:
    service: SearchService = request.app.state.service
    return service


ServiceDep = Annotated[SearchService, Depends(get_service)]
