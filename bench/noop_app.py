"""The ceiling: the same uvicorn and FastAPI, a route that reads the body and answers small JSON."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.post("/v1/batches")
async def noop(request: Request) -> Response:
    body = await request.body()
    return Response(
        b'{"accepted":["x"],"duplicate":false,"n":' + str(len(body)).encode() + b"}",
        media_type="application/json",
    )


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
